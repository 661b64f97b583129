"""Frontends over mel filterbank energies (not logged): log-mel, fixed PCEN, trainable PCEN.

Each maps (N, T, bands) energies to (N, T, bands) features, followed by the same per-band
batch normalisation, so that the compared systems differ only in the frontend.
"""
import torch
from torch import nn

from speechkit.errors import SpeechkitError
from speechkit.nn.pcen import PCEN

LOG_FLOOR = 1e-6


class LogMel(nn.Module):
    def forward(self, energies):
        return torch.log(energies.clamp(min=LOG_FLOOR))


class PCENFrontend(nn.Module):
    """The PCEN layer on (N, T, bands) energies; `trainable` False freezes every parameter."""

    def __init__(self, bands, trainable=True, **options):
        super().__init__()
        if not trainable:
            options["trainable"] = ()
        self.pcen = PCEN(bands, layout="btf", **options)

    def forward(self, energies):
        return self.pcen(energies)


def build_frontend(name, bands, **options):
    if name == "logmel":
        return LogMel()
    if name in ("pcen", "pcen_fixed"):
        return PCENFrontend(bands, trainable=name == "pcen", **options)
    raise SpeechkitError(f"unknown model.frontend '{name}'; use logmel, pcen_fixed or pcen")

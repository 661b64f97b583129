"""Layers and networks; importing a network's module registers it in MODELS."""
from speechkit.nn import ctc_bilstm, kws_cnn  # noqa: F401
from speechkit.nn.registry import MODELS

__all__ = ["MODELS"]

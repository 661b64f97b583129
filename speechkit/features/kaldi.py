"""Kaldi's fbank, MFCC and spectrogram, numerically the same as compute-{fbank,mfcc}-feats.

The computation is torchaudio.compliance.kaldi's; these wrappers give it Kaldi's defaults (not
torchaudio's: its energy_floor is 1.0 and its MFCC has no energy) through speechkit.features.config,
and Kaldi's input scale: Kaldi reads 16-bit samples as integers, so float audio in [-1, 1] is
multiplied by 32768 first. Each function takes a mono waveform (numpy or torch, float in
[-1, 1]) and an options dict (missing options take the defaults) and returns a float32
(frames, dims) numpy matrix.
"""
import inspect

import numpy as np
import torch
import torchaudio.compliance.kaldi as ta_kaldi

from speechkit.errors import SpeechkitError
from speechkit.features.config import resolve

INT16_SCALE = 32768.0
_FUNCTIONS = {"fbank": ta_kaldi.fbank, "mfcc": ta_kaldi.mfcc, "spectrogram": ta_kaldi.spectrogram}
# Options that torchaudio takes; the rest (min_duration, allow_*) are handled by the caller.
_ARGS = {kind: set(inspect.signature(fn).parameters) - {"waveform", "channel", "min_duration"}
         for kind, fn in _FUNCTIONS.items()}


def frame_geometry(options):
    """(window_size, window_shift) in samples, truncated as Kaldi does."""
    sr = options["sample_frequency"]
    return int(sr * options["frame_length"] / 1000), int(sr * options["frame_shift"] / 1000)


def _int16_waveform(waveform):
    wav = torch.as_tensor(waveform, dtype=torch.float32)
    if wav.dim() != 1:
        raise SpeechkitError(f"expected mono audio (one dimension), got shape {tuple(wav.shape)}")
    return (wav * INT16_SCALE).unsqueeze(0)


def _check_length(num_samples, options):
    window_size, _ = frame_geometry(options)
    if num_samples < window_size:
        raise SpeechkitError(
            f"{num_samples / options['sample_frequency']:.3f} s of audio is shorter than one "
            f"{options['frame_length']:g} ms frame; remove the utterance from the data dir, or set "
            f"min_duration to skip such utterances")


def _compute(kind, waveform, options):
    options = resolve(kind, options)
    wav = _int16_waveform(waveform)
    _check_length(wav.shape[1], options)
    kwargs = {name: value for name, value in options.items() if name in _ARGS[kind]}
    with torch.inference_mode():
        feats = _FUNCTIONS[kind](wav, **kwargs)
    return feats.numpy().astype(np.float32, copy=False)


def fbank(waveform, options=None):
    """Log mel filterbank (or linear energies with use_log_fbank false): (frames, num_mel_bins[+1])."""
    return _compute("fbank", waveform, options)


def mfcc(waveform, options=None):
    """MFCC, C0 replaced by log energy when use_energy (Kaldi's default): (frames, num_ceps)."""
    return _compute("mfcc", waveform, options)


def spectrogram(waveform, options=None):
    """Log power spectrum, bin 0 replaced by log energy: (frames, padded_window // 2 + 1)."""
    return _compute("spectrogram", waveform, options)

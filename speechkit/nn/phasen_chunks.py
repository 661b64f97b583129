"""Chunked enhancement of long inputs: memory bounded by the chunk, seams cross-faded.

The model runs on overlapping chunks one at a time; in each overlap the two chunks' outputs are
mixed with complementary raised-cosine weights (the output is sum(w_k y_k) / sum(w_k), and every
weight is positive where its chunk lies, so no sample is left uncovered).
"""
import math

import torch

from speechkit.errors import SpeechkitError


def chunk_starts(length, chunk, step):
    """Start samples of the chunks covering [0, length); the last one ends exactly at length."""
    if length <= chunk:
        return [0]
    starts = list(range(0, length - chunk, step))
    return starts + [length - chunk]


def fade(n, dtype, device):
    """n raised-cosine weights rising from near 0 to near 1, all strictly positive."""
    x = (torch.arange(n, dtype=dtype, device=device) + 0.5) / n
    return torch.sin(0.5 * math.pi * x).pow(2)


def chunk_weight(size, overlap, first, last, dtype, device):
    """Weights of one chunk: fades over `overlap` samples at the ends it shares with neighbours."""
    w = torch.ones(size, dtype=dtype, device=device)
    ramp = min(overlap, size // 2)
    if ramp > 0 and not first:
        w[:ramp] = fade(ramp, dtype, device)
    if ramp > 0 and not last:
        w[size - ramp:] = fade(ramp, dtype, device).flip(0)
    return w


@torch.no_grad()
def enhance_long(model, wav, chunk_s=4.0, overlap_s=0.5, sample_rate=16000):
    """Enhance wav (samples,) or (batch, samples) chunk by chunk; same shape out.

    `model(x)` takes (batch, samples) and returns the enhanced waveform or a dict with "wav"
    (as PHASEN does). Put the model in eval mode first: batch norm must use its running
    statistics, or each chunk would be normalised by itself.
    """
    chunk, overlap = int(round(chunk_s * sample_rate)), int(round(overlap_s * sample_rate))
    if chunk < 1 or overlap < 0 or overlap >= chunk:
        raise SpeechkitError(f"enhance_long: need chunk_s > overlap_s >= 0, got chunk_s={chunk_s}, "
                             f"overlap_s={overlap_s}")
    single = wav.dim() == 1
    x = wav.unsqueeze(0) if single else wav
    length = x.shape[1]
    starts = chunk_starts(length, chunk, chunk - overlap)
    out = torch.zeros_like(x)
    norm = torch.zeros(length, dtype=x.dtype, device=x.device)
    for k, start in enumerate(starts):
        piece = x[:, start:start + chunk]
        y = model(piece)
        y = y["wav"] if isinstance(y, dict) else y
        w = chunk_weight(piece.shape[1], overlap, k == 0, k == len(starts) - 1, x.dtype, x.device)
        out[:, start:start + piece.shape[1]] += y * w
        norm[start:start + piece.shape[1]] += w
    out = out / norm
    return out[0] if single else out

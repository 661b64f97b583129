"""SpecAugment's frequency and time masking (Park et al. 2019), for training only.

Masked values become 0, the mean of CMVN-normalised features. Time masks stay inside each
utterance's real frames. Randomness comes from torch's generator, which checkpoints save, so
resumed runs draw the same masks.
"""
import torch
from torch import nn


class SpecAugment(nn.Module):
    def __init__(self, freq_masks=2, freq_width=10, time_masks=2, time_width=20):
        super().__init__()
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width

    @staticmethod
    def _band(size, width, limit):
        """(N, size) bool masks of one random band per row, of width < `width`, inside `limit`."""
        n = limit.shape[0]
        w = (torch.rand(n) * width).long()
        start = (torch.rand(n) * (limit - w).clamp(min=1)).long()
        pos = torch.arange(size)[None, :]
        return (pos >= start[:, None]) & (pos < (start + w)[:, None])

    def forward(self, x, lengths):
        """x: (N, T, D) features, lengths: (N,) -> x with bands zeroed (a new tensor)."""
        if not self.training:
            return x
        n, t, d = x.shape
        keep = torch.ones(n, t, d, dtype=torch.bool)
        for _ in range(self.freq_masks):
            keep &= ~self._band(d, self.freq_width, torch.full((n,), d))[:, None, :]
        for _ in range(self.time_masks):
            keep &= ~self._band(t, self.time_width, lengths.cpu())[:, :, None]
        return x * keep.to(x.device)

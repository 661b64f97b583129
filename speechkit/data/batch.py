"""Padding helpers shared by networks and tasks: lists of (T, D) matrices to padded batches."""
import torch


def pad(mats):
    """List of (T_i, D) arrays -> (N, T_max, D) float tensor and (N,) lengths."""
    lengths = torch.tensor([len(m) for m in mats], dtype=torch.long)
    out = torch.zeros(len(mats), int(lengths.max()), *mats[0].shape[1:])
    for i, m in enumerate(mats):
        out[i, :len(m)] = torch.as_tensor(m)
    return out, lengths


def lengths_to_mask(lengths, max_len=None):
    """(N,) lengths -> (N, T) bool mask, True on real frames."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]

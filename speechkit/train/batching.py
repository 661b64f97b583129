"""Length-bucketed batches under a padded-frame budget, deterministic per (seed, epoch).

Utterances are sorted by length and cut into batches whose padded size (longest x count) stays
under `batch_frames`, so padding is a small share; the order of the batches is shuffled each
epoch from seed + epoch alone, which makes any epoch reproducible on resume without saving a
sampler state beyond (epoch, batches done).
"""
import numpy as np
import torch


def make_batches(lengths, batch_frames, max_batch, min_batch=1):
    """{key: length} -> list of key lists, each sorted by length (longest first).

    min_batch (the number of DDP ranks) may exceed the frame budget: every rank needs a share.
    """
    keys = sorted(lengths, key=lambda k: (-lengths[k], k))
    batches, current = [], []
    for key in keys:
        longest = lengths[current[0]] if current else lengths[key]
        full = len(current) >= max_batch or longest * (len(current) + 1) > batch_frames
        if len(current) >= min_batch and full:
            batches.append(current)
            current = []
        current.append(key)
    if current and len(current) < min_batch and batches:
        batches[-1].extend(current)
    elif current:
        batches.append(current)
    return batches


def epoch_order(batches, seed, epoch, shuffle=True):
    if not shuffle:
        return list(batches)
    order = np.random.default_rng([seed, epoch]).permutation(len(batches))
    return [batches[i] for i in order]


def padding_ratio(batches, lengths):
    """Share of padded frames over all frames of the padded batches."""
    padded = sum(lengths[b[0]] * len(b) for b in batches)
    real = sum(lengths[k] for b in batches for k in b)
    return 1.0 - real / padded if padded else 0.0


def shard(batch, rank, world_size):
    """This rank's part of a global batch (every rank sees the same global batches)."""
    return batch[rank::world_size]


def pad(mats):
    """List of (T_i, D) arrays -> (N, T_max, D) float tensor and (N,) lengths."""
    lengths = torch.tensor([len(m) for m in mats], dtype=torch.long)
    out = torch.zeros(len(mats), int(lengths.max()), mats[0].shape[1])
    for i, m in enumerate(mats):
        out[i, :len(m)] = torch.as_tensor(m)
    return out, lengths


def lengths_to_mask(lengths, max_len=None):
    """(N,) lengths -> (N, T) bool mask, True on real frames."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]

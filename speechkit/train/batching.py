"""Length-bucketed batches under a padded-frame budget, deterministic per (seed, epoch).

Utterances are sorted by length and cut into batches whose padded size (longest x count) stays
under `batch_frames`, so padding is a small share; the order of the batches is shuffled each
epoch from seed + epoch alone, which makes any epoch reproducible on resume without saving a
sampler state beyond (epoch, batches done).
"""
import numpy as np


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



class BucketSampler:
    """The default sampler: length buckets under a frame budget, reshuffled per (seed, epoch).

    A sampler's contract (tasks may supply their own, e.g. P speakers x K segments): `batches(
    epoch)` is the list of global batches of that epoch, a pure function of (seed, epoch), so
    that resuming at (epoch, batches done) replays the same batches; `describe()` is a log line.
    """

    def __init__(self, lengths, batch_frames, max_batch, world_size=1, seed=1, shuffle=True):
        self.lengths, self.seed, self.shuffle = lengths, seed, shuffle
        self.all = make_batches(lengths, batch_frames, max_batch, world_size)

    def batches(self, epoch):
        return epoch_order(self.all, self.seed, epoch, self.shuffle)

    def describe(self):
        return (f"{len(self.all)} batches, padding "
                f"{100 * padding_ratio(self.all, self.lengths):.1f}% of frames")


class CopySampler:
    """One copy of every original utterance per epoch (train.copies: one).

    `groups` maps each original to its copies in the training set (Kaldi's utt2uniq inverted:
    the speed, volume and voice copies of a perturbed dir and the original). Each epoch draws one
    member of every group from (seed, epoch) and buckets those, so an epoch costs what the
    unperturbed set costs while the network still meets every copy over the run; Kaldi's and
    ESPnet's way (every copy every epoch) takes 3x the time per epoch for 3-way speed
    perturbation. Deterministic per (seed, epoch) like BucketSampler, so resume needs no state.
    """

    def __init__(self, lengths, groups, batch_frames, max_batch, world_size=1, seed=1):
        self.lengths, self.seed = lengths, seed
        self.groups = [sorted(m) for _, m in sorted(groups.items())]
        self.batch_frames, self.max_batch, self.world_size = batch_frames, max_batch, world_size

    def draw(self, epoch):
        """{key: length} of the copies this epoch uses."""
        rng = np.random.default_rng([self.seed, epoch, 7])
        picks = rng.random(len(self.groups))
        keys = [m[int(p * len(m))] for m, p in zip(self.groups, picks)]
        return {k: self.lengths[k] for k in keys}

    def batches(self, epoch):
        chosen = make_batches(self.draw(epoch), self.batch_frames, self.max_batch,
                              self.world_size)
        return epoch_order(chosen, self.seed, epoch)

    def describe(self):
        sizes = [len(m) for m in self.groups]
        return (f"one of {sum(sizes)} copies of each of {len(sizes)} utterances per epoch "
                f"(train.copies: one; {max(sizes)} at most per utterance)")


def copy_groups(keys, utt2uniq):
    """{original: [keys]} from utt2uniq ({copy: original}); a key it does not list is its own
    original."""
    groups = {}
    for key in keys:
        groups.setdefault(utt2uniq.get(key, key), []).append(key)
    return groups

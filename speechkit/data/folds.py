"""Speaker-independent k-fold cross-validation: which utterances train, validate and test.

`speaker_folds` deals the speakers into k groups; fold i tests on group i and trains on the
others, holding out a share of those training speakers as the dev set (for early stopping), so
that over the k folds every speaker is tested exactly once and no speaker is ever in two of
train, dev and test of one fold. `write_fold_dirs` writes the folds as Kaldi data dirs
`<data_root>/fold<i>/{train,dev,test}` (i = 1..k), each a subset of one data dir.

The deal. Speakers are sorted (C order), shuffled with the seed, and dealt round-robin: the
speaker at position p of the shuffled list goes to group p mod k, so the groups differ in size by
at most one. The dev speakers of fold i are n_dev consecutive speakers of its training side (in
shuffled order, wrapping), starting at position (i-1)·n_dev, so that successive folds validate on
different speakers. n_dev = round(dev_share · training speakers), at least 1 when dev_share > 0,
and always leaving at least one speaker to train on.
"""
import logging
import random
import shutil
from pathlib import Path

from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError

log = logging.getLogger("speechkit.data")

FOLD_PREFIX = "fold"
SPLITS = ("train", "dev", "test")


def _shuffled(items, seed):
    """Fisher-Yates on random() only: the one stream Python keeps stable between versions."""
    rng = random.Random(f"speechkit-folds/{seed}")
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j = min(int(rng.random() * (i + 1)), i)
        out[i], out[j] = out[j], out[i]
    return out


def num_dev_speakers(num_train, dev_share):
    """How many of num_train training-side speakers validate (see the module docstring)."""
    if dev_share <= 0:
        return 0
    return min(max(1, round(dev_share * num_train)), num_train - 1)


def speaker_groups(speakers, k, seed=0):
    """The shuffled speaker list and its k round-robin groups (lists of speakers)."""
    order = _shuffled(sorted(set(speakers)), seed)
    return order, [order[g::k] for g in range(k)]


def _check(speakers, k, dev_share):
    if not isinstance(k, int) or k < 2:
        raise SpeechkitError(f"folds={k}: speaker-independent cross-validation needs at least 2 "
                             f"folds (e.g. --opt folds=4)")
    if k > len(speakers):
        raise SpeechkitError(f"folds={k}: only {len(speakers)} speakers, and every fold needs a "
                             f"test speaker; use at most --opt folds={len(speakers)}")
    if not 0 <= dev_share < 1:
        raise SpeechkitError(f"dev_share={dev_share}: must be within [0, 1), the share of a fold's "
                             f"training speakers that validate (e.g. --opt dev_share=0.2)")
    smallest_train_side = len(speakers) - (len(speakers) + k - 1) // k
    if dev_share > 0 and smallest_train_side < 2:
        raise SpeechkitError(f"folds={k} with {len(speakers)} speakers leaves {smallest_train_side} "
                             f"training speaker(s) in a fold, too few to also hold out dev "
                             f"speakers; use fewer folds or --opt dev_share=0")


def speaker_folds(utt2spk, k, seed=0, dev_share=0.2):
    """[(train_utts, dev_utts, test_utts)] for folds 1..k, each list sorted (C order).

    utt2spk: {utt: speaker}. Every speaker is in the test part of exactly one fold; dev speakers
    come from the training side of their fold.
    """
    speakers = sorted(set(utt2spk.values()))
    _check(speakers, k, dev_share)
    order, groups = speaker_groups(speakers, k, seed)
    by_speaker = {}
    for utt, spk in utt2spk.items():
        by_speaker.setdefault(spk, []).append(utt)
    folds = []
    for i, test_spk in enumerate(groups):
        held = set(test_spk)
        train_side = [s for s in order if s not in held]
        n_dev = num_dev_speakers(len(train_side), dev_share)
        start = (i * n_dev) % len(train_side)
        dev_spk = {train_side[(start + j) % len(train_side)] for j in range(n_dev)}
        parts = (set(train_side) - dev_spk, dev_spk, held)
        folds.append(tuple(sorted(u for s in part for u in by_speaker[s]) for part in parts))
    return folds


def fold_dir(data_root, i):
    """<data_root>/fold<i> (i counts from 1)."""
    return Path(data_root) / f"{FOLD_PREFIX}{i}"


def remove_stale_folds(data_root, k):
    """Remove fold<j> dirs for j > k left by an earlier run with more folds."""
    for path in sorted(Path(data_root).glob(f"{FOLD_PREFIX}*")):
        suffix = path.name[len(FOLD_PREFIX):]
        if path.is_dir() and suffix.isdigit() and int(suffix) > k:
            log.info("removing %s of an earlier run with more folds", path)
            shutil.rmtree(path)


def write_fold_dirs(data, data_root, k, seed=0, dev_share=0.2):
    """Write <data_root>/fold<i>/{train,dev,test} as subsets of the DataDir `data`.

    A fold without dev speakers (dev_share=0) gets no dev dir. -> {"fold1/train": utts, ...}.
    """
    folds = speaker_folds(data["utt2spk"], k, seed, dev_share)
    remove_stale_folds(data_root, k)
    counts = {}
    for i, parts in enumerate(folds, start=1):
        for split, utts in zip(SPLITS, parts):
            dest = fold_dir(data_root, i) / split
            if not utts:
                shutil.rmtree(dest, ignore_errors=True)
                continue
            data.subset(utts).write(dest, replace=True)
            counts[f"{dest.parent.name}/{split}"] = len(utts)
    return counts

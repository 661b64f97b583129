"""Paired bootstrap of an accuracy difference between two systems trained with several seeds.

Two sources of noise separate two systems' accuracies on one test set: which utterances the
test set happens to hold, and which seed trained each model. `paired_bootstrap` resamples both
(Bisani & Ney 2004 resample utterances; Kaldi's compute-wer-bootci does the same for WER): each
draw picks seed pairs (A's and B's run of the same seed) with replacement and utterances with
replacement, and takes the mean over the drawn pairs of B's accuracy minus A's on the drawn
utterances. The spread of these draws gives a confidence interval of the difference and the
probability that B is better, with both noise sources in it.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class PairedResult:
    diff: float                 # B - A, accuracy points (%), mean over the seed pairs
    per_seed: list              # B - A per seed pair, points
    low: float                  # confidence interval of diff (points)
    high: float
    prob_better: float          # share of draws with B ahead of A
    utterances: int


def paired_bootstrap(correct_a, correct_b, resamples=2000, confidence=0.95, seed=0):
    """correct_a, correct_b: (seeds, utterances) booleans, row i of both from seed pair i, the
    same utterances in the same order -> PairedResult."""
    a = np.asarray(correct_a, dtype=float)
    b = np.asarray(correct_b, dtype=float)
    if a.shape != b.shape or a.ndim != 2 or a.size == 0:
        raise ValueError(f"need two equal (seeds, utterances) arrays, got {a.shape} and {b.shape}")
    delta = b - a                                   # per seed pair and utterance: -1, 0 or 1
    pairs, utts = delta.shape
    rng = np.random.default_rng(seed)
    draws = np.empty(resamples)
    for i in range(resamples):
        rows = rng.integers(0, pairs, pairs)
        cols = rng.integers(0, utts, utts)
        draws[i] = delta[np.ix_(rows, cols)].mean()
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    per_seed = delta.mean(axis=1)
    return PairedResult(diff=100 * float(per_seed.mean()), per_seed=[100 * float(d) for d in per_seed],
                        low=100 * float(low), high=100 * float(high),
                        prob_better=float(np.mean(draws > 0)), utterances=utts)

"""Detection and classification scores: accuracy, false-reject rate at a false-alarm rate.

For keyword k, an utterance's score is its posterior of k; positives are the utterances
labelled k, negatives all others (other keywords, _unknown_, _silence_). The threshold is the
one at which the share of negatives scoring at or above it is at most the target false-alarm
rate; the false-reject rate is the share of positives scoring below it.

A DET curve of a keyword is its false-reject rate at each of a grid of false-alarm rates; a
set's curve is the mean over keywords at each rate (vertical averaging), so that it passes
through the mean false-reject rate that score-kws reports at --fa-rate.
"""
import numpy as np


def accuracy(labels, predictions):
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    return float(np.mean(labels == predictions)) if len(labels) else float("nan")


def threshold_at_far(negatives, far):
    """Lowest threshold whose false-alarm rate (scores >= threshold) is at most `far`."""
    neg = np.sort(np.asarray(negatives, dtype=np.float64))[::-1]
    allowed = int(np.floor(far * len(neg)))  # number of negatives that may pass
    if allowed >= len(neg):
        return -np.inf
    # Just above the (allowed+1)-th highest negative: exactly `allowed` negatives pass.
    return np.nextafter(neg[allowed], np.inf)


def frr_at_far(positives, negatives, far):
    """(false-reject rate, threshold) at the target false-alarm rate."""
    positives = np.asarray(positives, dtype=np.float64)
    if not len(positives):
        return float("nan"), float("nan")
    threshold = threshold_at_far(negatives, far)
    return float(np.mean(positives < threshold)), float(threshold)


# False-alarm rates of the DET points: 50 log-spaced from 0.1% to 100%.
DET_FA_RATES = tuple(float(f) for f in np.geomspace(1e-3, 1.0, 50))


def frr_curve(positives, negatives, fa_rates=DET_FA_RATES):
    """False-reject rates at each false-alarm rate of fa_rates (frr_at_far at each)."""
    return np.array([frr_at_far(positives, negatives, f)[0] for f in fa_rates])

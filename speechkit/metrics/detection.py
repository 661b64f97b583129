"""Detection and classification scores: accuracy, false-reject rate at a false-alarm rate.

For keyword k, an utterance's score is its posterior of k; positives are the utterances
labelled k, negatives all others (other keywords, _unknown_, _silence_). The threshold is the
one at which the share of negatives scoring at or above it is at most the target false-alarm
rate; the false-reject rate is the share of positives scoring below it.
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

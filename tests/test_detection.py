"""False-reject rate at a false-alarm rate, by hand."""
import numpy as np

from speechkit.metrics.detection import accuracy, frr_at_far, threshold_at_far


def test_frr_at_far_hand_worked():
    negatives = [0.9, 0.8, 0.3, 0.2, 0.1, 0.1, 0.05, 0.0, 0.0, 0.0]
    positives = [0.95, 0.85, 0.7, 0.5]
    # 10% false alarms: one negative (0.9) may pass, so the threshold sits just above 0.8.
    frr, thr = frr_at_far(positives, negatives, 0.1)
    assert 0.8 < thr <= 0.8 + 1e-12 and frr == 0.5      # 0.7 and 0.5 are rejected
    # 0% false alarms: just above the highest negative.
    frr, thr = frr_at_far(positives, negatives, 0.0)
    assert frr == 0.75
    # 20%: 0.9 and 0.8 pass; threshold just above 0.3; only nothing below it among positives.
    assert frr_at_far(positives, negatives, 0.2)[0] == 0.0
    assert threshold_at_far(negatives, 1.0) == -np.inf


def test_ties_never_exceed_the_false_alarm_budget():
    negatives = [0.5] * 10
    frr, thr = frr_at_far([0.5, 0.6], negatives, 0.1)
    assert thr > 0.5 and frr == 0.5  # letting 0.5 pass would let all 10 negatives pass


def test_accuracy():
    assert accuracy(["a", "b", "c"], ["a", "x", "c"]) == 2 / 3

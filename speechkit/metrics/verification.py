"""Speaker verification: trial lists, pair scoring, EER, minDCF, DET points, thresholds.

Conventions: a higher score means "more likely the same speaker"; a trial is accepted when
score >= threshold; labels are 1 (target: same speaker) or 0 (non-target).

- EER: the point where the false-negative and false-positive rates are equal on the ROC with
  its points joined by straight lines (the usual brentq-on-interp1d definition).
- minDCF: min over thresholds of c_miss * p_target * P_miss + c_fa * (1 - p_target) * P_fa,
  divided by min(c_miss * p_target, c_fa * (1 - p_target)), as Kaldi's
  egs/sre08/v1/sid/compute_min_dcf.py does (p_target 0.01, c_miss = c_fa = 1 by default).
  Kaldi walks the sorted scores one by one; here tied scores move together (the same on
  untied scores).
- Trial lists come from speechkit.data.trials.make_trials (re-exported here): balanced target /
  non-target pairs fixed by seed.
- Symmetric-KL scoring of softmax outputs: -(KL(P||Q) + KL(Q||P)), eps added, so that it is a
  similarity like cosine.
"""
import numpy as np
from scipy.stats import norm

from speechkit.data.trials import make_trials  # one trial sampler for the toolkit
from speechkit.errors import SpeechkitError

__all__ = ["choose_threshold", "cosine_scores", "det_curve", "eer", "make_trials", "min_dcf",
           "pair_accuracy", "probit", "roc_points", "score_trials", "symmetric_kl_scores"]

EPS = 1e-16


def _check_trials(scores, labels):
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if len(scores) != len(labels):
        raise SpeechkitError(f"{len(scores)} scores but {len(labels)} trial labels")
    if not np.all(np.isin(labels, (0, 1))):
        raise SpeechkitError("trial labels must be 1 (target) or 0 (non-target)")
    labels = labels.astype(bool)
    if labels.all() or not labels.any():
        raise SpeechkitError("the trials need both target and non-target pairs")
    if not np.all(np.isfinite(scores)):
        raise SpeechkitError(f"{np.sum(~np.isfinite(scores))} trial scores are NaN or infinite")
    return scores, labels


def roc_points(scores, labels):
    """(fpr, fnr, thresholds) for accepting score >= threshold, at +inf (reject all) and then at
    each distinct score, descending: the points of sklearn's roc_curve(drop_intermediate=False)."""
    scores, labels = _check_trials(scores, labels)
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # end of each tie group
    accepted_targets = np.cumsum(labels)[last]
    accepted_nontargets = (last + 1) - accepted_targets
    n_target = np.sum(labels)
    fpr = np.r_[0.0, accepted_nontargets / np.sum(~labels)]
    fnr = np.r_[1.0, (n_target - accepted_targets) / n_target]  # not 1 - tpr: exact ties
    return fpr, fnr, np.r_[np.inf, scores[last]]


det_curve = roc_points  # DET: the same points drawn on probit axes (see probit)


def probit(rate, floor=1e-6):
    """Normal deviate of an error rate, for DET axes; rates are kept inside [floor, 1 - floor]
    so that 0 and 1 stay on the plot."""
    return norm.ppf(np.clip(rate, floor, 1.0 - floor))


def eer(scores, labels):
    """(equal error rate, threshold): the rate where the FNR and FPR of the linearly
    interpolated ROC meet; the threshold of the first ROC point with FNR <= FPR."""
    fpr, fnr, thresholds = roc_points(scores, labels)
    k = int(np.argmax(fnr <= fpr))  # exists: the last point has fnr = 0
    gap_before, gap_at = fnr[k - 1] - fpr[k - 1], fnr[k] - fpr[k]  # > 0, <= 0 (k >= 1)
    t = gap_before / (gap_before - gap_at)
    return float(fpr[k - 1] + t * (fpr[k] - fpr[k - 1])), float(thresholds[k])


def min_dcf(scores, labels, p_target=0.01, c_miss=1.0, c_fa=1.0):
    """(normalised minimum detection cost, its threshold), Kaldi's compute_min_dcf.py."""
    fpr, fnr, thresholds = roc_points(scores, labels)
    cost = c_miss * p_target * fnr + c_fa * (1.0 - p_target) * fpr
    k = int(np.argmin(cost))
    return float(cost[k] / min(c_miss * p_target, c_fa * (1.0 - p_target))), float(thresholds[k])


def pair_accuracy(scores, labels, threshold):
    """Share of trials decided right when accepting score >= threshold."""
    scores, labels = _check_trials(scores, labels)
    return float(np.mean((scores >= threshold) == labels))


def choose_threshold(scores, labels, criterion="accuracy"):
    """A threshold chosen on dev trials, to apply to test trials.

    "accuracy": the one that maximises pair accuracy, placed halfway between the lowest accepted
    score and the next lower one so that it does not sit on a dev score; "eer": eer()'s.
    """
    if criterion == "eer":
        return eer(scores, labels)[1]
    if criterion != "accuracy":
        raise SpeechkitError(f"threshold criterion '{criterion}' is not one of accuracy, eer")
    fpr, fnr, thresholds = roc_points(scores, labels)
    n_target = np.sum(np.asarray(labels) == 1)
    correct = (1.0 - fnr) * n_target + (1.0 - fpr) * (len(np.ravel(labels)) - n_target)
    k = int(np.argmax(correct))
    if k == 0:
        return np.inf  # rejecting everything is best
    if k == len(thresholds) - 1:
        return -np.inf  # accepting everything is best
    return float((thresholds[k] + thresholds[k + 1]) / 2)


def cosine_scores(a, b):
    """Row-wise cosine similarity of two (n, d) arrays; a zero vector scores 0."""
    a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.sum(a * b, axis=1)
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


def symmetric_kl_scores(p, q, eps=EPS):
    """Row-wise -(KL(P||Q) + KL(Q||P)) of probability vectors, eps added (not clipped)."""
    p = np.atleast_2d(np.asarray(p, np.float64)) + eps
    q = np.atleast_2d(np.asarray(q, np.float64)) + eps
    return -np.sum((p - q) * (np.log(p) - np.log(q)), axis=1)


SCORERS = {"cosine": cosine_scores, "kl": symmetric_kl_scores}
TRIAL_LABELS = {"target": 1, "nontarget": 0, 1: 1, 0: 0}  # True and False hash as 1 and 0


def score_trials(trials, embeddings, method="cosine"):
    """(scores, 1/0 labels) of (utt1, utt2, label) trials, label 'target'|'nontarget' (as
    make_trials and Kaldi trial files give) or 1/0; embeddings: utt -> vector."""
    if method not in SCORERS:
        raise SpeechkitError(f"scoring method '{method}' is not one of {', '.join(SCORERS)}")
    missing = sorted({u for t in trials for u in t[:2] if u not in embeddings})
    if missing:
        raise SpeechkitError(f"{len(missing)} trial utterances have no embedding (first: "
                             f"{missing[0]}); extract embeddings for the whole trial list")
    a = np.stack([embeddings[t[0]] for t in trials])
    b = np.stack([embeddings[t[1]] for t in trials])
    bad = [t for t in trials if t[2] not in TRIAL_LABELS]
    if bad:
        raise SpeechkitError(f"trial {bad[0][0]} {bad[0][1]}: label {bad[0][2]!r} is not target "
                             f"or nontarget")
    return SCORERS[method](a, b), np.array([TRIAL_LABELS[t[2]] for t in trials])

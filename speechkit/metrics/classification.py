"""Utterance classification scores: weighted and unweighted accuracy, macro-F1, confusions.

WA is the share of utterances classified right; UA the mean over classes of each class's
recall (so a majority class cannot carry it); macro-F1 the mean over classes of F1. Classes are
those of the reference plus any the hypotheses use, so a class never predicted still counts.
"""
import numpy as np


def confusion(refs, hyps, classes):
    """(classes x classes) counts: row = reference class, column = hypothesis."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for r, h in zip(refs, hyps):
        out[index[r], index[h]] += 1
    return out


def class_scores(refs, hyps):
    """{'wa', 'ua', 'macro_f1'} in percent, the class list, and the confusion matrix."""
    refs, hyps = list(refs), list(hyps)
    classes = sorted(set(refs) | set(hyps))
    mat = confusion(refs, hyps, classes)
    true = mat.sum(axis=1)
    predicted = mat.sum(axis=0)
    hits = np.diag(mat)
    present = true > 0
    recall = np.divide(hits, true, out=np.zeros(len(classes)), where=true > 0)
    precision = np.divide(hits, predicted, out=np.zeros(len(classes)), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(len(classes)), where=denom > 0)
    scores = {"wa": 100.0 * hits.sum() / max(len(refs), 1),
              "ua": 100.0 * recall[present].mean() if present.any() else float("nan"),
              "macro_f1": 100.0 * f1[present].mean() if present.any() else float("nan")}
    return scores, classes, mat

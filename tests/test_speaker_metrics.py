"""Verification and clustering metrics against scikit-learn, scipy, Kaldi's minDCF loop, brute
force and hand-worked cases."""
import itertools

import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage
from scipy.interpolate import interp1d
from scipy.optimize import brentq
from scipy.spatial.distance import cosine, pdist
from scipy.special import rel_entr
from sklearn.metrics import adjusted_rand_score, roc_curve

from speechkit.errors import SpeechkitError
from speechkit.metrics.clustering import (adjusted_rand_index, cluster_tree, cut,
                                          evaluate_clustering, min_mr_over_cuts,
                                          misclassification_rate, pairwise_distances)
from speechkit.metrics.verification import (choose_threshold, cosine_scores, eer, make_trials,
                                            min_dcf, pair_accuracy, probit, roc_points,
                                            score_trials, symmetric_kl_scores)


def random_trials(seed, n=300, ties=False):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = rng.standard_normal(n) + 1.2 * labels
    return (np.round(scores, 1) if ties else scores), labels


# --- verification ----------------------------------------------------------------------------

@pytest.mark.parametrize("seed,ties", [(0, False), (1, False), (2, True), (3, True)])
def test_roc_points_are_sklearns(seed, ties):
    scores, labels = random_trials(seed, ties=ties)
    fpr, fnr, thr = roc_points(scores, labels)
    ref_fpr, ref_tpr, ref_thr = roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref_fpr)
    np.testing.assert_allclose(fnr, 1 - ref_tpr)
    np.testing.assert_array_equal(thr[1:], ref_thr[1:])  # sklearn's first is inf or max + 1


@pytest.mark.parametrize("seed,ties", [(0, False), (1, False), (2, True), (3, True)])
def test_eer_against_sklearn_roc(seed, ties):
    scores, labels = random_trials(seed, ties=ties)
    fpr, tpr, _ = roc_curve(labels, scores)
    ref = brentq(lambda x: 1.0 - x - interp1d(fpr, tpr)(x), 0.0, 1.0)  # the usual recipe
    value, threshold = eer(scores, labels)
    assert value == pytest.approx(ref, abs=1e-9)
    # At the returned threshold the miss rate has just dropped to the false-alarm rate or below.
    accept = scores >= threshold
    assert np.mean(~accept[labels == 1]) <= np.mean(accept[labels == 0]) + 1e-12


def test_eer_hand_worked():
    scores = [0.9, 0.6, 0.4, 0.7, 0.3, 0.2]
    labels = [1, 1, 1, 0, 0, 0]
    # Thresholds 0.9, 0.7, 0.6: (fpr, fnr) = (0, 2/3), (1/3, 2/3), (1/3, 1/3): equal at 0.6.
    assert eer(scores, labels) == (pytest.approx(1 / 3), 0.6)
    assert eer([3, 2, 1, 0], [1, 1, 0, 0])[0] == 0.0
    assert eer([0, 1, 2, 3], [1, 1, 0, 0])[0] == 1.0
    # One target between two non-targets: the ROC crosses the diagonal mid-segment.
    assert eer([1, 2, 3], [0, 1, 0])[0] == pytest.approx(0.5)


def kaldi_min_dcf(scores, labels, p_target, c_miss, c_fa):
    """egs/sre08/v1/sid/compute_min_dcf.py, its loops as they are."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    labels = [labels[i] for i in order]
    thresholds = [scores[i] for i in order]
    fnrs, fprs = [], []
    for i, lab in enumerate(labels):
        fnrs.append(lab if i == 0 else fnrs[i - 1] + lab)
        fprs.append(1 - lab if i == 0 else fprs[i - 1] + 1 - lab)
    fnrs = [x / sum(labels) for x in fnrs]
    fprs = [1 - x / (len(labels) - sum(labels)) for x in fprs]
    best, best_thr = float("inf"), thresholds[0]
    for fnr, fpr, thr in zip(fnrs, fprs, thresholds):
        c_det = c_miss * fnr * p_target + c_fa * fpr * (1 - p_target)
        if c_det < best:
            best, best_thr = c_det, thr
    return best / min(c_miss * p_target, c_fa * (1 - p_target)), best_thr


@pytest.mark.parametrize("p_target,c_miss,c_fa", [(0.01, 1, 1), (0.05, 1, 1), (0.5, 1, 1),
                                                  (0.01, 10, 1)])
def test_min_dcf_against_kaldi_and_sklearn(p_target, c_miss, c_fa):
    scores, labels = random_trials(4, n=500)
    value, threshold = min_dcf(scores, labels, p_target, c_miss, c_fa)
    ref, ref_thr = kaldi_min_dcf(list(scores), list(labels), p_target, c_miss, c_fa)
    assert value == pytest.approx(ref, rel=1e-12)
    # Kaldi rejects scores <= its threshold; here scores >= threshold are accepted: the next one.
    assert threshold == np.min(scores[scores > ref_thr])
    fpr, tpr, _ = roc_curve(labels, scores)
    cost = c_miss * p_target * (1 - tpr) + c_fa * (1 - p_target) * fpr
    assert value == pytest.approx(cost.min() / min(c_miss * p_target, c_fa * (1 - p_target)))


def test_min_dcf_hand_worked():
    scores, labels = [0.9, 0.6, 0.4, 0.7, 0.3, 0.2], [1, 1, 1, 0, 0, 0]
    # p_target 0.01: accepting only 0.9 costs 0.01 * 2/3, normalised by 0.01: 2/3; accepting
    # more lets a non-target in at 0.99 * 1/3 each; rejecting all costs 1.
    assert min_dcf(scores, labels) == (pytest.approx(2 / 3), 0.9)
    assert min_dcf([3, 2, 1, 0], [1, 1, 0, 0])[0] == 0.0


def test_threshold_on_dev_and_pair_accuracy():
    scores, labels = [0.9, 0.6, 0.4, 0.7, 0.3, 0.2], [1, 1, 1, 0, 0, 0]
    # Accepting >= 0.4 gets 5 of 6 right (only 0.7 wrong); halfway to the next score is 0.35.
    threshold = choose_threshold(scores, labels)
    assert threshold == pytest.approx(0.35)
    assert pair_accuracy(scores, labels, threshold) == pytest.approx(5 / 6)
    assert choose_threshold(scores, labels, "eer") == 0.6
    # On random dev trials: no threshold does better than the chosen one.
    scores, labels = random_trials(5, ties=True)
    best = pair_accuracy(scores, labels, choose_threshold(scores, labels))
    candidates = np.r_[np.unique(scores), np.inf]
    assert best == pytest.approx(max(np.mean((scores >= t) == labels) for t in candidates))
    with pytest.raises(SpeechkitError, match="criterion"):
        choose_threshold(scores, labels, "f1")


def test_bad_trials_explained():
    with pytest.raises(SpeechkitError, match="both target and non-target"):
        eer([0.1, 0.2], [1, 1])
    with pytest.raises(SpeechkitError, match="NaN"):
        eer([0.1, np.nan], [1, 0])
    with pytest.raises(SpeechkitError, match="2 scores but 3"):
        min_dcf([0.1, 0.2], [1, 0, 1])


def test_probit_keeps_zero_and_one_on_the_axis():
    assert probit(0.5) == pytest.approx(0.0)
    assert np.all(np.isfinite(probit(np.array([0.0, 1.0]))))


def test_scoring_against_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    np.testing.assert_allclose(cosine_scores(a, b), [1 - cosine(x, y) for x, y in zip(a, b)])
    assert cosine_scores(np.zeros((1, 4)), b[:1])[0] == 0.0
    p, q = rng.dirichlet(np.ones(6), 5), rng.dirichlet(np.ones(6), 5)
    p[0, 0] = 0.0  # an exact zero: eps keeps the score finite
    ref = [-(rel_entr(x + 1e-16, y + 1e-16).sum() + rel_entr(y + 1e-16, x + 1e-16).sum())
           for x, y in zip(p, q)]
    np.testing.assert_allclose(symmetric_kl_scores(p, q), ref)
    assert symmetric_kl_scores(p, p).max() == pytest.approx(0.0)

    emb = {"a": a[0], "b": a[1], "c": a[2]}
    scores, labels = score_trials([("a", "b", 1), ("a", "c", 0)], emb)
    np.testing.assert_allclose(scores, cosine_scores(a[[0, 0]], a[[1, 2]]))
    assert list(labels) == [1, 0]
    with pytest.raises(SpeechkitError, match="no embedding.*first: d"):
        score_trials([("a", "d", 1)], emb)


UTT2SPK = {f"spk{s}-utt{u}": f"spk{s}" for s, n in enumerate([2, 3, 4, 6]) for u in range(n)}


def test_trials_made_balanced_and_scored():
    # make_trials is speechkit.data.trials' (tested there); here: its lists score as they are.
    trials = make_trials(UTT2SPK, 20, seed=3)
    assert len(set(trials)) == 20 and trials == make_trials(UTT2SPK, 20, seed=3)
    rng = np.random.default_rng(0)
    centres = {f"spk{s}": rng.standard_normal(8) for s in range(4)}
    emb = {u: centres[s] + 0.01 * rng.standard_normal(8) for u, s in UTT2SPK.items()}
    scores, labels = score_trials(trials, emb)
    assert labels.sum() == 10
    assert all(lab == int(UTT2SPK[a] == UTT2SPK[b]) for (a, b, _), lab in zip(trials, labels))
    assert eer(scores, labels)[0] == 0.0
    with pytest.raises(SpeechkitError, match="label 'same'"):
        score_trials([("spk0-utt0", "spk0-utt1", "same")], emb)


# --- clustering ------------------------------------------------------------------------------

def brute_force_mr(true, pred):
    speakers, clusters = sorted(set(true)), sorted(set(pred))
    best = 0
    # every one-to-one map from speakers to clusters (None: a speaker left without a cluster)
    slots = clusters + [None] * len(speakers)
    for assigned in itertools.permutations(slots, len(speakers)):
        right = sum(t == s and p == c for s, c in zip(speakers, assigned) if c is not None
                    for t, p in zip(true, pred))
        best = max(best, right)
    return 1 - best / len(true)


@pytest.mark.parametrize("seed", range(6))
def test_mr_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 3, 9)
    pred = rng.integers(0, 2 + seed % 3, 9)
    assert misclassification_rate(true, pred) == pytest.approx(brute_force_mr(true, pred))


def test_mr_hand_worked():
    assert misclassification_rate([0, 0, 1, 1], [5, 5, 7, 7]) == 0.0
    assert misclassification_rate([1, 1, 1, 1], [1, 2, 3, 4]) == 0.75
    assert misclassification_rate([1, 2, 3, 4], [1, 1, 1, 1]) == 0.75
    # Greedy matching would give speaker a cluster X (2 of its 3) and leave b with nothing
    # better than Y (1): 3 right. Exact: a -> Y (1), b -> X (3): 4 right of 6.
    true = ["a", "a", "a", "b", "b", "b"]
    pred = ["X", "X", "Y", "X", "X", "X"]
    assert misclassification_rate(true, pred) == pytest.approx(1 - 4 / 6)
    assert brute_force_mr(true, pred) == pytest.approx(1 - 4 / 6)


@pytest.mark.parametrize("seed", range(5))
def test_ari_against_sklearn(seed):
    rng = np.random.default_rng(seed)
    true, pred = rng.integers(0, 4, 30), rng.integers(0, 2 + seed, 30)
    assert adjusted_rand_index(true, pred) == pytest.approx(adjusted_rand_score(true, pred))
    assert adjusted_rand_index(true, true) == 1.0
    for a, b in [([0, 0, 0], [0, 0, 0]), ([0, 1, 2], [0, 1, 2]), ([0, 0, 0], [0, 1, 2]),
                 ([0], [0])]:
        assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b))


def blobs(seed=0, speakers=4, per=5, spread=0.3, dim=8):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((speakers, dim))
    x = np.repeat(centres, per, 0) + spread * rng.standard_normal((speakers * per, dim))
    return x, np.repeat(np.arange(speakers), per)


def test_clustering_uses_condensed_distances():
    x, _ = blobs()
    np.testing.assert_allclose(pairwise_distances(x), pdist(x, "cosine"), atol=1e-12)
    np.testing.assert_allclose(cluster_tree(x), linkage(pdist(x, "cosine"), "complete"),
                               atol=1e-12)
    np.testing.assert_allclose(cluster_tree(x, "euclidean", "average"),
                               linkage(pdist(x), "average"))
    x[0] = 0.0  # a zero embedding: distance 1 from everything, not NaN
    assert np.all(np.isfinite(cluster_tree(x)))
    with pytest.raises(SpeechkitError, match="euclidean"):
        cluster_tree(x, "cosine", "ward")
    with pytest.raises(SpeechkitError, match="NaN"):
        cluster_tree(np.full((3, 2), np.nan))


def test_evaluate_clustering_separated_and_mixed():
    x, spk = blobs()
    result = evaluate_clustering(x, spk)
    assert result["mr"] == 0.0 and result["ari"] == 1.0 and result["clusters"] == 4
    assert result["min_mr_over_cuts"] == 0.0
    x, spk = blobs(spread=3.0)  # speakers overlap
    result = evaluate_clustering(x, spk)
    assert result["mr"] > 0.2 and result["ari"] < 0.8
    # The original protocol's number picks its cut with the labels: never worse than the MR
    # at the true number of speakers, and the minimum over each cut's MR.
    tree = cluster_tree(x)
    mrs = [misclassification_rate(spk, cut(tree, k)) for k in range(1, len(spk) + 1)]
    assert min_mr_over_cuts(tree, spk) == (min(mrs), 1 + int(np.argmin(mrs)))
    assert result["min_mr_over_cuts"] <= result["mr"]

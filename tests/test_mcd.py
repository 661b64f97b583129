"""Mel-cepstral distortion: a hand-worked example (pysptk.util has no MCD), DTW against a plain
double loop (it also agreed with librosa.sequence.dtw when written; librosa's numba compile
costs 8 s, so that check is not kept), DTW vs aligned MCD, variance ratio, GV post-filter."""
import math

import numpy as np
import pytest
import torch

from speechkit.errors import SpeechkitError
from speechkit.metrics.mcd import (dtw_path, frame_mcd, global_variance, gv_postfilter, mcd,
                                   mcd_dtw, variance_ratio)

K = 10 / math.log(10) * math.sqrt(2)  # 6.1418... dB per unit of Euclidean cepstral distance


def trajectories(frames=60, dims=40, seed=0):
    """Smooth, distinct mel-cepstrum-like trajectories (c0 large, higher orders smaller)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None]
    freq = rng.uniform(0.05, 0.3, size=dims)
    phase = rng.uniform(0, 2 * np.pi, size=dims)
    scale = 1.0 / (1 + np.arange(dims))
    return scale * np.sin(freq * t + phase) + 0.01 * rng.standard_normal((frames, dims))


def test_mcd_hand_worked_excludes_c0():
    ref = np.zeros((2, 3))
    est = np.array([[5.0, 1.0, 0.0],    # c0 off by 5 (ignored), c1 by 1: distance 1
                    [0.0, 3.0, 4.0]])   # distance 5
    assert frame_mcd(ref, est) == pytest.approx([K * 1, K * 5])
    assert mcd(ref, est) == pytest.approx(K * 3)   # 18.4256 dB
    assert mcd(ref, est) == pytest.approx(18.42555, abs=1e-5)
    # The same matrices without c0, and a voiced-frame mask picking the second frame.
    assert mcd(ref[:, 1:], est[:, 1:], includes_c0=False) == pytest.approx(K * 3)
    assert mcd(ref, est, mask=[False, True]) == pytest.approx(K * 5)
    # torch tensors are accepted too.
    assert mcd(torch.tensor(ref), torch.tensor(est)) == pytest.approx(K * 3)


def test_mcd_bad_input_is_one_clear_error():
    a = np.zeros((4, 40))
    with pytest.raises(SpeechkitError, match="equal lengths"):
        mcd(a, np.zeros((5, 40)))
    with pytest.raises(SpeechkitError, match="different orders"):
        mcd(a, np.zeros((4, 25)))
    with pytest.raises(SpeechkitError, match="no frame"):
        mcd(a, a, mask=np.zeros(4, bool))


def dtw_reference(x, y):
    """Textbook DTW, a double loop: total cost and the path (diagonal preferred on ties)."""
    n, m = len(x), len(y)
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d = np.sqrt(((x[i - 1] - y[j - 1]) ** 2).sum())
            acc[i, j] = d + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
    path, i, j = [(n - 1, m - 1)], n, m
    while (i, j) != (1, 1):
        i, j = min([(i - 1, j - 1), (i - 1, j), (i, j - 1)], key=lambda p: acc[p])
        path.append((i - 1, j - 1))
    return acc[n, m], path[::-1]


@pytest.mark.parametrize("n, m", [(17, 23), (23, 17), (1, 5), (9, 9)])
def test_dtw_matches_reference_loop(n, m):
    x, y = trajectories(n, 6, seed=1), trajectories(m, 6, seed=2)
    ref_cost, ref_path = dtw_reference(x[:, 1:], y[:, 1:])   # DTW on c1.. only
    i, j, cost = dtw_path(x, y)
    assert cost == pytest.approx(ref_cost)
    assert list(zip(i.tolist(), j.tolist())) == ref_path


def test_dtw_mcd_equals_aligned_for_same_timing_and_is_lower_for_shifted_copy():
    ref = trajectories(80, 40, seed=5)
    est = ref + 0.01 * np.random.default_rng(6).standard_normal(ref.shape)
    assert mcd_dtw(ref, est) == pytest.approx(mcd(ref, est))
    i, j, _ = dtw_path(ref, est)
    assert np.array_equal(i, np.arange(80)) and np.array_equal(j, np.arange(80))

    shifted = np.concatenate([np.repeat(ref[:1], 4, axis=0), ref[:-4]])  # 4 frames late
    aligned, warped = mcd(ref, shifted), mcd_dtw(ref, shifted)
    assert warped < 0.3 * aligned
    # Different lengths are fine with DTW (a slower rendering of the same trajectory).
    slow = np.repeat(ref, 2, axis=0)
    assert mcd_dtw(ref, slow) == pytest.approx(0.0, abs=1e-12)


def test_variance_ratio_and_global_variance():
    ref = trajectories(50, 40, seed=7)
    mean = ref.mean(axis=0)
    smooth = 0.5 * (ref - mean) + mean
    assert np.allclose(variance_ratio(ref, smooth), 0.25)
    assert variance_ratio(ref, smooth).shape == (39,)
    # GV over utterances is the mean of per-utterance variances, not the pooled variance.
    a, b = trajectories(30, 4, seed=8), trajectories(70, 4, seed=9) + 5.0
    assert np.allclose(global_variance([a, b]), (a.var(0) + b.var(0)) / 2)
    assert np.allclose(variance_ratio([a, b], [2 * a, 2 * b], includes_c0=False), 4.0)


def test_gv_postfilter_restores_target_variance_exactly():
    ref = trajectories(120, 40, seed=10)
    over_smoothed = 0.3 * (ref - ref.mean(0)) + ref.mean(0)
    over_smoothed[:, 0] += 1.0          # c0 must pass untouched
    gv = global_variance(ref)
    out = gv_postfilter(over_smoothed, gv)
    assert np.allclose(out.var(axis=0)[1:], gv[1:], rtol=1e-12)
    assert np.array_equal(out[:, 0], over_smoothed[:, 0])
    assert np.allclose(out.mean(axis=0), over_smoothed.mean(axis=0))
    assert np.allclose(out[:, 1:], ref[:, 1:])  # a pure scaling is undone exactly
    # A (dims-1,) target without c0 gives the same; a constant dimension stays as it is.
    assert np.allclose(gv_postfilter(over_smoothed, gv[1:]), out)
    flat = over_smoothed.copy()
    flat[:, 3] = 0.7
    assert np.all(gv_postfilter(flat, gv)[:, 3] == 0.7)
    with pytest.raises(SpeechkitError, match="GV target has 12 dims"):
        gv_postfilter(over_smoothed, gv[:12])

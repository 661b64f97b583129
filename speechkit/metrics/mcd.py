"""Mel-cepstral distortion, DTW alignment, global variance and the GV post-filter.

Conventions (toolkits differ; these are speechkit's):

- MCD per frame is (10/ln 10)·sqrt(2·Σ_{d≥1}(c_d − ĉ_d)²) dB: c0 (energy) is excluded, all
  frames count unless a mask is given (pass a voiced-frame mask for voiced-only MCD). The
  utterance MCD is the mean over frames; a corpus MCD is the mean ± std over utterances.
- Aligned MCD (`mcd`) compares frame t with frame t: reconstruction, where timing is shared.
- `mcd_dtw` first aligns by DTW on c1.. with Euclidean local distance, steps (1,1), (1,0),
  (0,1), all of weight 1, the path running from the first frame pair to the last; then averages
  the frame MCD over every pair on the path (a frame matched twice counts twice): conversion,
  where a source and a target rendering have different timing.
- GV (global variance) of a set of utterances is the mean over utterances of each one's
  per-dimension variance over time (ddof 0).

Matrices are (frames, dims) with c0 in column 0 when `includes_c0` (the ark layout of
`speechkit compute-mcep`); pass `includes_c0=False` for c1.. only (the networks' layout).
"""
import numpy as np
from scipy.spatial.distance import cdist

from speechkit.errors import SpeechkitError

DB_PER_NEPER = 10.0 / np.log(10.0)
MCD_CONST = DB_PER_NEPER * np.sqrt(2.0)


def _as_matrix(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise SpeechkitError(f"{name}: expected a non-empty (frames, dims) matrix, "
                             f"got shape {x.shape}")
    return x


def _cepstra(x, includes_c0, name):
    """Columns c1.. of a mel-cepstrum matrix."""
    x = _as_matrix(x, name)
    if includes_c0:
        if x.shape[1] < 2:
            raise SpeechkitError(f"{name}: {x.shape[1]} column(s) is c0 only; nothing to compare "
                                 f"(pass includes_c0=False if column 0 is c1)")
        return x[:, 1:]
    return x


def _pair(ref, est, includes_c0, same_length=True):
    ref = _cepstra(ref, includes_c0, "reference")
    est = _cepstra(est, includes_c0, "estimate")
    if ref.shape[1] != est.shape[1]:
        raise SpeechkitError(f"mel-cepstra of different orders: reference has {ref.shape[1]} "
                             f"coefficients, estimate {est.shape[1]}")
    if same_length and ref.shape[0] != est.shape[0]:
        raise SpeechkitError(f"aligned MCD needs equal lengths: reference has {ref.shape[0]} "
                             f"frames, estimate {est.shape[0]}; use mcd_dtw for different timing")
    return ref, est


def frame_mcd(ref, est, includes_c0=True):
    """Per-frame MCD in dB, shape (frames,), of two time-aligned mel-cepstrum matrices."""
    ref, est = _pair(ref, est, includes_c0)
    return MCD_CONST * np.sqrt(((ref - est) ** 2).sum(axis=1))


def mcd(ref, est, includes_c0=True, mask=None):
    """Mean MCD in dB over aligned frames (c0 excluded); `mask` (frames,) selects frames."""
    per_frame = frame_mcd(ref, est, includes_c0)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool).reshape(-1)
        if mask.shape[0] != per_frame.shape[0]:
            raise SpeechkitError(f"MCD mask has {mask.shape[0]} frames, features "
                                 f"{per_frame.shape[0]}")
        if not mask.any():
            raise SpeechkitError("MCD mask selects no frame (an unvoiced-only utterance?)")
        per_frame = per_frame[mask]
    return float(per_frame.mean())


def dtw_path(ref, est, includes_c0=True):
    """DTW alignment on c1.. (Euclidean): (ref_idx, est_idx, total cost) along the best path.

    Paths start at (0, 0), end at (n-1, m-1) and move by (1,1), (1,0) or (0,1); on equal cost
    the diagonal step is preferred, then (1,0).
    """
    ref, est = _pair(ref, est, includes_c0, same_length=False)
    acc = _accumulated_cost(cdist(ref, est))
    i, j = ref.shape[0] - 1, est.shape[0] - 1
    path = [(i, j)]
    while i > 0 or j > 0:
        # acc is padded by one row and column of inf, so acc[i+1, j+1] is cell (i, j).
        moves = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
        i, j = min(moves, key=lambda m: acc[m[0] + 1, m[1] + 1])
        path.append((i, j))
    path = np.array(path[::-1])
    return path[:, 0], path[:, 1], float(acc[-1, -1])


def _accumulated_cost(cost):
    """(n+1, m+1) accumulated DTW cost with an inf border, filled one anti-diagonal at a time
    (cells on one anti-diagonal depend only on the two before it)."""
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[1, 1] = cost[0, 0]
    for k in range(1, n + m - 1):
        i = np.arange(max(0, k - m + 1), min(n - 1, k) + 1)
        j = k - i
        best = np.minimum(np.minimum(acc[i, j], acc[i, j + 1]), acc[i + 1, j])
        acc[i + 1, j + 1] = cost[i, j] + best
    return acc


def mcd_dtw(ref, est, includes_c0=True):
    """Mean MCD in dB over the DTW path between ref and est (see the module doc)."""
    ref_idx, est_idx, _ = dtw_path(ref, est, includes_c0)
    ref, est = _pair(ref, est, includes_c0, same_length=False)
    return float(MCD_CONST * np.sqrt(((ref[ref_idx] - est[est_idx]) ** 2).sum(axis=1)).mean())


def _as_utterances(x, name):
    """A matrix or a sequence of matrices -> list of matrices."""
    if getattr(x, "ndim", None) == 2:  # one numpy matrix or torch tensor
        return [_as_matrix(x, name)]
    return [_as_matrix(u, f"{name} utterance {k}") for k, u in enumerate(x)]


def global_variance(utts):
    """GV: mean over utterances of the per-dimension variance over time, shape (dims,).

    `utts` is one (frames, dims) matrix or a sequence of them.
    """
    utts = _as_utterances(utts, "GV input")
    if not utts:
        raise SpeechkitError("GV of no utterance")
    dims = {u.shape[1] for u in utts}
    if len(dims) > 1:
        raise SpeechkitError(f"GV over utterances of different dimensions: {sorted(dims)}")
    return np.mean([u.var(axis=0) for u in utts], axis=0)


def variance_ratio(ref, est, includes_c0=True):
    """Per-dimension GV(est) / GV(ref) over c1.., shape (dims-1,) with c0: 1 is no smoothing,
    below 1 is the over-smoothing of a mean-seeking model. ref/est: a matrix each, or paired
    sequences of matrices."""
    ref_gv, est_gv = global_variance(ref), global_variance(est)
    if ref_gv.shape != est_gv.shape:
        raise SpeechkitError(f"variance ratio of {ref_gv.shape[0]}-dim reference and "
                             f"{est_gv.shape[0]}-dim estimate")
    if includes_c0:
        ref_gv, est_gv = ref_gv[1:], est_gv[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        return est_gv / ref_gv


def gv_postfilter(x, gv_target, includes_c0=True):
    """Scale one utterance's deviations from its mean to the target GV, per dimension >= 1.

    y_d = sqrt(gv_target_d / var_d(x))·(x_d − mean_d(x)) + mean_d(x). c0 passes unchanged;
    `gv_target` is (dims,) (its c0 entry is ignored) or (dims-1,) without c0. A dimension that is
    constant over the utterance (one frame, or silence) is left as it is.
    """
    x = _as_matrix(x, "GV post-filter input")
    first = 1 if includes_c0 else 0
    gv = np.asarray(gv_target, dtype=np.float64).reshape(-1)
    width = x.shape[1] - first
    if gv.shape[0] == x.shape[1] and first:
        gv = gv[first:]
    if gv.shape[0] != width:
        raise SpeechkitError(f"GV target has {gv.shape[0]} dims, features {x.shape[1]} "
                             f"({'with' if includes_c0 else 'without'} c0)")
    if np.any(gv < 0):
        raise SpeechkitError("GV target has negative variances; was it computed as a variance?")
    y = x.copy()
    part = x[:, first:]
    mean, var = part.mean(axis=0), part.var(axis=0)
    varies = np.ptp(part, axis=0) > 0  # var of a constant column is rounding noise, not 0
    scale = np.where(varies, np.sqrt(gv / np.where(varies, var, 1.0)), 1.0)
    y[:, first:] = scale * (part - mean) + mean
    return y

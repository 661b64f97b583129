"""Segmental SNR, LLR, WSS and the composite measures CSIG, CBAK, COVL (Hu & Loizou 2008).

Follows the authors' MATLAB `composite.m` (Loizou, "Speech Enhancement: Theory and Practice"),
vectorised over frames:

- frames of 30 ms every 7.5 ms, window 0.5(1 - cos(2πn/(N+1))), n = 1..N; the frame count is
  floor((len - N) / hop), which leaves out the last full frame exactly as `composite.m` does;
- segSNR: per-frame 10 log10(|s|² / |s - ŝ|²), clipped to [-10, 35] dB, averaged over all frames;
- LLR: LPC order 10 below 10 kHz, 16 above; the mean of the lowest 95 % of frames, *not*
  clipped to [0, 2] inside the composite (the standalone `comp_llr.m` clips; `clip=True` here);
- WSS: Klatt's weighted spectral slope over 25 critical bands up to 4 kHz, lowest 95 % of frames.
  The right-hand peak search keeps `composite.m`'s off-by-one (it takes the band just before the
  peak): the regression coefficients were fitted with that code;
- CSIG = 3.093 - 1.029 LLR + 0.603 PESQ - 0.009 WSS
  CBAK = 1.634 + 0.478 PESQ - 0.007 WSS + 0.063 segSNR
  COVL = 1.594 + 0.805 PESQ - 0.512 LLR - 0.007 WSS, each clipped to [1, 5].

The PESQ value is the caller's: speechkit passes wide-band PESQ (P.862.2) at 16 kHz, as the
VoiceBank+DEMAND literature does; the original paper used narrow-band P.862.
Inputs are equal-length 1-D float arrays; validation is `speechkit.metrics.enhance`'s job.
"""
import numpy as np

EPS = np.finfo(np.float64).eps
SEGSNR_RANGE = (-10.0, 35.0)
KEEP = 0.95  # share of frames (the lowest LLR/WSS values) kept, to drop outliers

# Critical bands of the WSS measure: centre frequencies and bandwidths in Hz (Klatt 1982).
CENTRES = np.array([
    50.0, 120.0, 190.0, 260.0, 330.0, 400.0, 470.0, 540.0, 617.372, 703.378, 798.717, 904.128,
    1020.38, 1148.30, 1288.72, 1442.54, 1610.70, 1794.16, 1993.93, 2211.08, 2446.71, 2701.97,
    2978.04, 3276.17, 3597.63])
BANDWIDTHS = np.array([
    70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 77.3724, 86.0056, 95.3398, 105.411, 116.256,
    127.914, 140.423, 153.823, 168.154, 183.457, 199.776, 217.153, 235.631, 255.255, 276.072,
    298.126, 321.465, 346.136])
K_MAX, K_LOCMAX = 20.0, 1.0  # Klatt's weighting constants


def frames(x, rate):
    """Windowed 30 ms frames every 7.5 ms, (n_frames, win), as `composite.m` cuts them."""
    win = int(np.floor(0.03 * rate + 0.5))  # MATLAB round()
    hop = win // 4
    n = max((len(x) - win) // hop, 0)
    window = 0.5 * (1 - np.cos(2 * np.pi * np.arange(1, win + 1) / (win + 1)))
    if n == 0:
        return np.zeros((0, win))
    return np.lib.stride_tricks.sliding_window_view(x, win)[: n * hop: hop] * window


def trimmed_mean(values, keep=KEEP):
    """Mean of the lowest round(keep * n) values (MATLAB rounding, half away from zero)."""
    values = np.sort(values)
    return float(np.mean(values[: int(np.floor(len(values) * keep + 0.5))]))


def segsnr_frames(ref, est, rate):
    """Per-frame segmental SNR in dB, clipped to [-10, 35]."""
    s, e = frames(ref, rate), frames(est, rate)
    signal = np.sum(s ** 2, axis=1)
    noise = np.sum((s - e) ** 2, axis=1)
    snr = 10 * np.log10(signal / (noise + EPS) + EPS)
    return np.clip(snr, *SEGSNR_RANGE)


def segsnr(ref, est, rate):
    """Segmental SNR (Hu & Loizou): mean over frames of the clipped per-frame SNR, in dB."""
    return float(np.mean(segsnr_frames(ref, est, rate)))


def autocorr(x, order):
    """Autocorrelation lags 0..order of each row, (rows, order + 1)."""
    n = x.shape[1]
    return np.stack([np.sum(x[:, : n - k] * x[:, k:], axis=1) for k in range(order + 1)], axis=1)


def levinson(r):
    """LPC polynomials [1, -a1, ..., -ap] per row from autocorrelation lags (Levinson-Durbin)."""
    rows, order = r.shape[0], r.shape[1] - 1
    a = np.zeros((rows, order))
    err = r[:, 0].copy()
    for i in range(order):
        k = (r[:, i + 1] - np.sum(a[:, :i] * r[:, i:0:-1], axis=1)) / err
        a[:, :i] = a[:, :i] - k[:, None] * a[:, i - 1::-1][:, :i]
        a[:, i] = k
        err = (1 - k * k) * err
    return np.concatenate([np.ones((rows, 1)), -a], axis=1)


def toeplitz_form(a, r):
    """a T(r) aᵀ per row, T(r) the symmetric Toeplitz matrix of lags r: r0·c0 + 2·Σ rk·ck with
    ck the lag-k autocorrelation of a."""
    c = autocorr(a, r.shape[1] - 1)
    return r[:, 0] * c[:, 0] + 2 * np.sum(r[:, 1:] * c[:, 1:], axis=1)


def llr_frames(ref, est, rate):
    """Per-frame log-likelihood ratio of the estimate's LPC model against the reference's."""
    order = 10 if rate < 10000 else 16
    s, e = frames(ref, rate), frames(est, rate)
    r_ref = autocorr(s, order)
    a_ref, a_est = levinson(r_ref), levinson(autocorr(e, order))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = toeplitz_form(a_est, r_ref) / toeplitz_form(a_ref, r_ref)
        out = np.log(ratio)
    # Only a numerically broken frame gets here (the forms are positive): count it as worst.
    out[~np.isfinite(out)] = np.inf
    return out


def llr(ref, est, rate, clip=False):
    """Mean LLR over the lowest 95 % of frames; clip=True limits frames to [0, 2] as comp_llr.m."""
    values = llr_frames(ref + EPS, est + EPS, rate)
    if clip:
        values = np.clip(values, 0.0, 2.0)
    return trimmed_mean(values)


def critical_filters(rate, n_fft):
    """Gaussian critical-band weights over the first n_fft/2 FFT bins, (25, n_fft/2)."""
    half = n_fft // 2
    f0 = np.floor(CENTRES / (rate / 2) * half)[:, None]
    bw = (BANDWIDTHS / (rate / 2) * half)[:, None]
    norm = np.log(BANDWIDTHS[0]) - np.log(BANDWIDTHS)[:, None]
    filt = np.exp(-11 * ((np.arange(half)[None, :] - f0) / bw) ** 2 + norm)
    return filt * (filt > np.exp(-30.0 / (2.0 * 2.303)))  # zero below the -30 dB point


def band_energies_db(x, rate):
    """Critical-band energies in dB per frame, (n_frames, 25), floored at -100 dB."""
    fr = frames(x, rate)
    n_fft = int(2 ** np.ceil(np.log2(2 * fr.shape[1])))
    spec = np.abs(np.fft.rfft(fr, n_fft, axis=1)[:, : n_fft // 2]) ** 2
    return 10 * np.log10(np.maximum(spec @ critical_filters(rate, n_fft).T, 1e-10))


def local_peaks(slope, energy):
    """For each band, the level of the nearest spectral peak as `composite.m` finds it.

    Positive slope: search right to the first band whose slope is not positive (or the last
    slope), and take the energy one band before it. Otherwise: search left to the last band with
    a positive slope and take the energy one band after it (band 0 if none).
    """
    n = slope.shape[1]
    idx = np.broadcast_to(np.arange(n), slope.shape)
    # First index >= i with slope <= 0, else n (a reverse running minimum).
    stop = np.where(slope <= 0, idx, n)
    right = np.minimum.accumulate(stop[:, ::-1], axis=1)[:, ::-1]
    # Last index <= i with slope > 0, else -1 (a running maximum).
    start = np.where(slope > 0, idx, -1)
    left = np.maximum.accumulate(start, axis=1)
    pick = np.where(slope > 0, right - 1, left + 1)
    return np.take_along_axis(energy, pick, axis=1)


def wss_frames(ref, est, rate):
    """Per-frame weighted spectral slope distance (Klatt 1982, as in `composite.m`)."""
    weights, slopes = [], []
    for x in (ref, est):
        energy = band_energies_db(x, rate)
        slope = np.diff(energy, axis=1)
        below = energy[:, :-1]
        w_max = K_MAX / (K_MAX + energy.max(axis=1, keepdims=True) - below)
        w_loc = K_LOCMAX / (K_LOCMAX + local_peaks(slope, energy) - below)
        weights.append(w_max * w_loc)
        slopes.append(slope)
    w = (weights[0] + weights[1]) / 2
    return np.sum(w * (slopes[0] - slopes[1]) ** 2, axis=1) / np.sum(w, axis=1)


def wss(ref, est, rate):
    """Mean WSS distance over the lowest 95 % of frames."""
    return trimmed_mean(wss_frames(ref + EPS, est + EPS, rate))


def composite_from(pesq, llr_mean, wss_mean, segsnr_mean):
    """CSIG, CBAK, COVL from their parts with the published regression, clipped to [1, 5]."""
    csig = 3.093 - 1.029 * llr_mean + 0.603 * pesq - 0.009 * wss_mean
    cbak = 1.634 + 0.478 * pesq - 0.007 * wss_mean + 0.063 * segsnr_mean
    covl = 1.594 + 0.805 * pesq - 0.512 * llr_mean - 0.007 * wss_mean
    return {k: float(np.clip(v, 1.0, 5.0)) for k, v in
            (("csig", csig), ("cbak", cbak), ("covl", covl))}


def composite(ref, est, rate, pesq):
    """{'csig', 'cbak', 'covl', 'llr', 'wss', 'segsnr'} for one pair, given its PESQ score."""
    ref, est = np.asarray(ref, np.float64) + EPS, np.asarray(est, np.float64) + EPS
    parts = {"llr": trimmed_mean(llr_frames(ref, est, rate)),
             "wss": trimmed_mean(wss_frames(ref, est, rate)),
             "segsnr": segsnr(ref, est, rate)}
    return {**composite_from(pesq, parts["llr"], parts["wss"], parts["segsnr"]), **parts}

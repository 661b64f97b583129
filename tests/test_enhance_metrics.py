"""Enhancement metrics against pysepm-evo (LLR, WSS, segSNR), scipy (LPC) and hand-worked cases.

pysepm-evo is only a reference here. Its 0.1.1 release needs two shims to import at all: it
imports `scipy.signal.kaiser` (moved to scipy.signal.windows in scipy 1.13) and `srmrpy` (for
reverberation measures we don't use, and not among its dependencies). Its numba-jitted helpers
are swapped for their plain Python originals, which skips a ~20 s compile. Its `composite()`
refers to undefined PESQ variables, so the composite reference below is the published
regression applied to its LLR/WSS/segSNR, a regression checked separately by hand.
"""
import sys
import types

import numpy as np
import pytest
import scipy.linalg
import scipy.signal

from speechkit.errors import SpeechkitError
from speechkit.metrics import composite as comp
from speechkit.metrics.enhance import METRICS, check_pair, pesq, score_pair, si_sdr, stoi


@pytest.fixture(scope="module")
def pysepm():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scipy.signal, "kaiser", scipy.signal.windows.kaiser, raising=False)
        mp.setitem(sys.modules, "srmrpy", types.ModuleType("srmrpy"))
        import pysepm_evo
        import pysepm_evo.qualityMeasures as qm
    qm.lpcoeff = getattr(qm.lpcoeff, "py_func", qm.lpcoeff)
    qm.find_loc_peaks = getattr(qm.find_loc_peaks, "py_func", qm.find_loc_peaks)
    return pysepm_evo


def speechlike(seconds=1.5, rate=16000, seed=0):
    """Voiced-speech-like audio: a gliding pulse train through three formant resonators, in
    syllable-rate bursts with pauses, over a -70 dB noise floor (no digital silence)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))
    y = (np.diff(np.floor(np.cumsum(f0) / rate), prepend=0) > 0).astype(float)
    for fc, bw in [(700, 130), (1220, 70), (2600, 160)]:
        r, theta = np.exp(-np.pi * bw / rate), 2 * np.pi * fc * rng.uniform(0.9, 1.1) / rate
        y = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], y)
    env = np.clip(np.sin(2 * np.pi * 2.2 * t + rng.uniform(0, 6)), 0, None) ** 0.5
    env[: rate // 5] = env[-rate // 5:] = 0
    y = y * env + 0.02 * rng.standard_normal(n) * env
    return 0.3 * (y / np.max(np.abs(y)) + 1e-3 * rng.standard_normal(n))


def add_noise(x, snr_db, seed=1):
    """x plus white Gaussian noise scaled to exactly snr_db over the whole signal."""
    noise = np.random.default_rng(seed).standard_normal(len(x))
    return x + noise * np.sqrt(np.sum(x ** 2) / np.sum(noise ** 2) / 10 ** (snr_db / 10))


@pytest.mark.parametrize("rate,n", [(16000, 24037), (8000, 12011)])
def test_llr_wss_segsnr_match_pysepm(pysepm, rate, n):
    x = speechlike(n / rate, rate, seed=2)[:n]
    for snr in (0, 10):
        y = add_noise(x, snr, seed=snr)
        parts = comp.composite(x, y, rate, pesq=2.0)
        assert parts["llr"] == pytest.approx(pysepm.llr(x, y, rate, used_for_composite=True),
                                             rel=1e-6)
        assert parts["wss"] == pytest.approx(pysepm.wss(x, y, rate), rel=1e-6)
        assert parts["segsnr"] == pytest.approx(pysepm.SNRseg(x, y, rate), abs=1e-6)
        assert comp.llr(x, y, rate, clip=True) == pytest.approx(pysepm.llr(x, y, rate), rel=1e-6)
        # The composite reference: the published regression on pysepm's parts.
        ref = comp.composite_from(2.0, pysepm.llr(x, y, rate, used_for_composite=True),
                                  pysepm.wss(x, y, rate), pysepm.SNRseg(x, y, rate))
        for name in ("csig", "cbak", "covl"):
            assert parts[name] == pytest.approx(ref[name], rel=1e-6)


def test_composite_regression_by_hand():
    # PESQ 3, LLR 0.5, WSS 30, segSNR 8, worked out from Hu & Loizou's coefficients.
    got = comp.composite_from(3.0, 0.5, 30.0, 8.0)
    assert got == pytest.approx({"csig": 4.1175, "cbak": 3.362, "covl": 3.543})
    # Far outside the MOS scale on both sides: clipped to [1, 5].
    assert comp.composite_from(4.6, 0.0, 0.0, 35.0) == {"csig": 5.0, "cbak": 5.0, "covl": 5.0}
    assert comp.composite_from(1.0, 3.0, 150.0, -10.0) == {"csig": 1.0, "cbak": 1.0, "covl": 1.0}


def test_levinson_matches_scipy_solve_toeplitz():
    rng = np.random.default_rng(3)
    fr = comp.frames(scipy.signal.lfilter([1], [1, -0.9, 0.5], rng.standard_normal(4000)), 16000)
    r = comp.autocorr(fr, 16)
    lpc = comp.levinson(r)
    for row in range(0, len(fr), 7):
        a = scipy.linalg.solve_toeplitz(r[row, :-1], r[row, 1:])  # normal equations R a = r
        np.testing.assert_allclose(lpc[row], np.r_[1.0, -a], rtol=1e-7, atol=1e-9)
        quad = lpc[row] @ scipy.linalg.toeplitz(r[row]) @ lpc[row]
        assert comp.toeplitz_form(lpc[row:row + 1], r[row:row + 1])[0] == pytest.approx(quad)


def test_segsnr_hand_worked():
    x = speechlike(seed=4)
    # Every frame's noise is the reference times a constant: the SNR of each frame is known.
    assert comp.segsnr(x, -x, 16000) == pytest.approx(10 * np.log10(1 / 4))  # noise = 2x
    assert comp.segsnr(x, np.zeros_like(x), 16000) == pytest.approx(0.0, abs=1e-9)
    assert comp.segsnr(x, 1.001 * x, 16000) == 35.0   # 60 dB, clipped to 35
    assert comp.segsnr(x, -5 * x, 16000) == -10.0     # -15.6 dB, clipped to -10
    # Frame count as composite.m: floor((len - 480) / 120) frames of 480 samples at 16 kHz.
    assert comp.frames(np.ones(24037), 16000).shape == ((24037 - 480) // 120, 480)


def test_white_noise_at_known_snr():
    rng = np.random.default_rng(5)
    t = np.arange(32000) / 16000
    # A stationary reference: every frame sees the same SNR, so segSNR ~ the global SNR.
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (220, 530, 1370, 2900))
    for snr in (0.0, 10.0, 20.0):
        y = add_noise(x, snr, seed=int(snr))
        assert si_sdr(x, y) == pytest.approx(snr, abs=0.1)
        assert comp.segsnr(x, y, 16000) == pytest.approx(snr, abs=0.3)


def test_si_sdr_gain_invariance_and_limits():
    x = speechlike(seed=6)
    y = add_noise(x, 5.0)
    base = si_sdr(x, y)
    assert base == pytest.approx(5.0, abs=0.2)
    for gain in (1e-3, 0.5, 7.0, -2.0):
        assert si_sdr(x, gain * y) == pytest.approx(base, abs=1e-9)
        assert si_sdr(gain * x, y) == pytest.approx(base, abs=1e-9)
    assert si_sdr(x, y + 0.5) == pytest.approx(base, abs=1e-9)  # a DC offset doesn't count
    assert si_sdr(x, x) == pytest.approx(200.0)
    assert si_sdr(x, np.zeros_like(x)) == pytest.approx(-200.0)


def test_gain_leaves_llr_and_wss_at_zero():
    x = speechlike(seed=7)
    parts = comp.composite(x, 0.25 * x, 16000, pesq=4.0)
    assert parts["llr"] == pytest.approx(0.0, abs=1e-6)
    assert parts["wss"] == pytest.approx(0.0, abs=1e-6)
    # LLR is never negative: the reference's own LPC model fits its autocorrelation best.
    assert np.all(comp.llr_frames(x, add_noise(x, 5.0), 16000) >= -1e-9)


def test_score_pair_identical_and_ordered_by_snr():
    x = speechlike(seed=8)
    same = score_pair(x, x, 16000)
    assert list(same) == list(METRICS)
    assert same["pesq"] > 4.5 and same["stoi"] == pytest.approx(1.0)
    assert same["estoi"] == pytest.approx(1.0)
    assert same["si_sdr"] == pytest.approx(200.0) and same["ssnr"] == 35.0
    assert same["csig"] == same["cbak"] == same["covl"] == 5.0
    noisy, cleaner = score_pair(x, add_noise(x, 0.0), 16000), score_pair(x, add_noise(x, 15.0), 16000)
    for name in METRICS:
        assert noisy[name] < cleaner[name] <= same[name], name
    assert cleaner["si_sdr"] == pytest.approx(15.0, abs=0.2)
    # Integer PCM scores like float: every metric here ignores a common scale.
    pcm = np.round(x * 32767).astype(np.int16)
    assert score_pair(pcm, pcm, 16000)["pesq"] == pytest.approx(same["pesq"], abs=1e-3)


def test_narrow_band_at_8k():
    x = speechlike(rate=8000, seed=9)
    assert pesq(x, x, 8000) > 4.4  # P.862 MOS-LQO tops out near 4.55
    assert stoi(x, add_noise(x, 0.0), 8000) < stoi(x, add_noise(x, 10.0), 8000)


def same(x):
    return x


def speech_in_03s(x):
    """0.3 s of speech, the rest 80 dB down: pystoi would quietly return 1e-5 for it."""
    return x * np.where(abs(np.arange(len(x)) - len(x) // 2) < 2400, 1, 1e-4)


@pytest.mark.parametrize("ref,est,kwargs,message", [
    (np.zeros_like, same, {}, "reference is silent"),
    (same, np.zeros_like, {}, "estimate is silent"),
    (same, lambda x: x[:-10], {}, "reference has 24000 samples but the estimate 23990"),
    (same, same, {"est_rate": 8000}, "reference is at 16000 Hz but the estimate at 8000 Hz"),
    (same, same, {"rate": 22050}, "resample to 16000 Hz"),
    (lambda x: np.stack([x, x], 1), same, {}, "reference has 2 channels"),
    (same, lambda x: np.stack([x, x]), {}, "estimate has 2 channels"),
    (lambda x: x[:3000], lambda x: x[:3000], {}, "too short"),
    (same, lambda x: np.where(x > 0.2, np.nan, x), {}, "NaN"),
    (speech_in_03s, same, {}, "STOI needs at least 0.4 s of reference speech"),
])
def test_bad_pairs_raise_one_line(ref, est, kwargs, message):
    x = speechlike(seed=10)
    kwargs = {"rate": 16000, **kwargs}
    with pytest.raises(SpeechkitError) as err:
        score_pair(ref(x), est(x), key="utt7", **kwargs)
    text = str(err.value)
    assert text.startswith("utt7: ") and message in text and "\n" not in text


def test_pesq_failure_becomes_speechkit_error():
    # Bypassing check_pair: the PESQ library's own "no utterances" error is translated.
    with pytest.raises(SpeechkitError, match="u1: PESQ found no speech in the reference"):
        pesq(np.zeros(16000), speechlike(1.0), 16000, key="u1")


def test_a_caller_can_go_on_after_a_bad_pair():
    x = speechlike(seed=11)
    pairs = {"a": (x, add_noise(x, 5.0)), "b": (np.zeros_like(x), x), "c": (x, x[:-1]),
             "d": (x, x)}
    scores, failed = {}, {}
    for key, (ref, est) in pairs.items():
        try:
            scores[key] = score_pair(ref, est, 16000, key=key)
        except SpeechkitError as err:
            failed[key] = str(err)
    assert sorted(scores) == ["a", "d"] and sorted(failed) == ["b", "c"]
    ref, est = check_pair(x[:, None], x[None, :], 16000)  # (n, 1) and (1, n) count as mono
    assert ref.shape == est.shape == x.shape

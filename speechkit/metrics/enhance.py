"""Speech enhancement scores for one (reference, estimate) pair of waveforms.

`score_pair` computes every metric of the enhancement table at once:

    pesq    wide-band PESQ, ITU-T P.862.2 MOS-LQO (narrow-band P.862 at 8 kHz), `pesq` package
    stoi    STOI (Taal et al. 2011), `pystoi`
    estoi   extended STOI (Jensen & Taal 2016), `pystoi`
    si_sdr  scale-invariant SDR in dB (Le Roux et al. 2019), both signals made zero-mean
    ssnr    segmental SNR in dB (Hu & Loizou 2008), frames clipped to [-10, 35] dB
    csig, cbak, covl  the composite measures (Hu & Loizou 2008) built on that PESQ

All are "higher is better". A pair that cannot be scored (a silent reference, lengths or rates
that differ, stereo, too short) raises SpeechkitError with one line saying why and what to do,
so that a caller scoring many utterances can report it and go on with the others.
"""
import warnings

import numpy as np

from speechkit.errors import SpeechkitError
from speechkit.metrics.composite import composite, segsnr

METRICS = ("pesq", "stoi", "estoi", "si_sdr", "ssnr", "csig", "cbak", "covl")
PESQ_RATES = (8000, 16000)
MIN_SECONDS = 0.25  # the PESQ model's own minimum
SI_SDR_FLOOR = 1e-20  # energy floor relative to the estimate: SI-SDR stays within +-200 dB


def key_prefix(key):
    """'key: ' to start a message about one utterance, or '' without a key."""
    return f"{key}: " if key is not None else ""


def as_mono(x, what, prefix=""):
    """A 1-D float64 copy of a waveform; a (n, 1) or (1, n) array counts as mono."""
    x = np.asarray(x)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim == 2:
        raise SpeechkitError(f"{prefix}the {what} has {min(x.shape)} channels; score one channel "
                             f"(e.g. `sox in.wav out.wav remix 1`) or average them first")
    if x.ndim != 1:
        raise SpeechkitError(f"{prefix}the {what} should be a 1-D waveform, got shape {x.shape}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise SpeechkitError(f"{prefix}the {what} contains NaN or infinite samples")
    return x


def check_pair(ref, est, rate, est_rate=None, key=None):
    """Validate a pair and return it as two 1-D float64 arrays of equal length.

    `est_rate` is the estimate's sampling rate when it was read separately (None: same as
    `rate`); `key` (an utterance id) starts every message.
    """
    prefix = key_prefix(key)
    ref, est = as_mono(ref, "reference", prefix), as_mono(est, "estimate", prefix)
    if est_rate is not None and est_rate != rate:
        raise SpeechkitError(f"{prefix}the reference is at {rate} Hz but the estimate at "
                             f"{est_rate} Hz; resample one of them (speechkit resample)")
    if rate not in PESQ_RATES:
        raise SpeechkitError(f"{prefix}sampling rate {rate} Hz: PESQ is defined at 8000 or 16000 "
                             f"Hz only; resample to 16000 Hz first (speechkit resample)")
    if len(ref) != len(est):
        raise SpeechkitError(f"{prefix}the reference has {len(ref)} samples but the estimate "
                             f"{len(est)}; the enhancement must keep the input's length")
    if len(ref) < MIN_SECONDS * rate:
        raise SpeechkitError(f"{prefix}{len(ref)} samples ({len(ref) / rate:.3f} s) is too short "
                             f"to score; PESQ needs at least {MIN_SECONDS} s")
    for x, what in ((ref, "reference"), (est, "estimate")):
        if not np.any(x):
            raise SpeechkitError(f"{prefix}the {what} is silent (all samples zero); PESQ, "
                                 f"SI-SDR and the composite measures are undefined for it")
    return ref, est


def pesq(ref, est, rate, key=None):
    """PESQ MOS-LQO: wide-band (P.862.2) at 16 kHz, narrow-band (P.862) at 8 kHz."""
    import pesq as pesq_lib  # a compiled extension: imported only by those who score

    try:
        return float(pesq_lib.pesq(rate, ref, est, "wb" if rate == 16000 else "nb"))
    except pesq_lib.NoUtterancesError:
        raise SpeechkitError(f"{key_prefix(key)}PESQ found no speech in the reference (too quiet or "
                             f"silent); check the clean reference") from None
    except pesq_lib.PesqError as err:
        raise SpeechkitError(f"{key_prefix(key)}PESQ failed: {err}") from None


def stoi(ref, est, rate, extended=False, key=None):
    """STOI, or extended STOI with extended=True, via pystoi (resamples to 10 kHz itself).

    pystoi drops the reference's silent frames and, when fewer than 30 frames (~0.4 s) are
    left, warns and returns 1e-5; that would enter a mean as a real score, so it raises here.
    """
    from pystoi import stoi as pystoi

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        value = pystoi(ref, est, rate, extended=extended)
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        raise SpeechkitError(f"{key_prefix(key)}STOI needs at least 0.4 s of reference speech within 40 dB "
                             f"of its loudest frame; this reference has less")
    return float(value)


def si_sdr(ref, est):
    """Scale-invariant SDR in dB: est projected on ref (both zero-mean) over the residual.

    Identical signals give +200 dB and an estimate orthogonal to the reference, or all zero,
    -200 dB instead of ±inf, so that means and JSON stay finite.
    """
    ref = np.asarray(ref, np.float64) - np.mean(ref)
    est = np.asarray(est, np.float64) - np.mean(est)
    ref_energy = np.dot(ref, ref)
    if ref_energy == 0:
        raise SpeechkitError("SI-SDR is undefined for a constant reference")
    est_energy = np.dot(est, est)
    if est_energy == 0:
        return float(10 * np.log10(SI_SDR_FLOOR))
    target = np.dot(est, ref) / ref_energy * ref
    floor = SI_SDR_FLOOR * est_energy
    residual = est - target
    return float(10 * np.log10((np.dot(target, target) + floor) /
                               (np.dot(residual, residual) + floor)))


def score_pair(ref, est, rate, est_rate=None, key=None):
    """Every metric in METRICS for one pair: {name: value}.

    ref, est: 1-D waveforms (any float or int scale, the same for both) at `rate` Hz;
    `est_rate` and `key` as in check_pair. Raises SpeechkitError when the pair can't be scored.
    """
    ref, est = check_pair(ref, est, rate, est_rate, key)
    scores = {"pesq": pesq(ref, est, rate, key),
              "stoi": stoi(ref, est, rate, key=key),
              "estoi": stoi(ref, est, rate, extended=True, key=key),
              "si_sdr": si_sdr(ref, est)}
    parts = composite(ref, est, rate, scores["pesq"])
    scores.update(ssnr=parts["segsnr"], csig=parts["csig"], cbak=parts["cbak"],
                  covl=parts["covl"])
    return {name: scores[name] for name in METRICS}


__all__ = ["METRICS", "check_pair", "pesq", "stoi", "si_sdr", "segsnr", "composite",
           "score_pair"]

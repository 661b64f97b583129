"""Static per-channel energy normalisation (PCEN) of mel filterbank energies.

    M_t = (1 - s) M_{t-1} + s E_t                      (a first-order IIR smoother per band)
    Y_t = (E_t / (eps + M_t)^gain + bias)^power - bias^power

with librosa's names (gain = alpha, bias = delta, power = r). `pcen` equals `librosa.pcen` for
the same parameters, including its initial state: librosa starts the smoother as if the
previous input had been 1 (`scipy.signal.lfilter_zi` of the smoother), which is `init="librosa"`;
`"first"` starts it from the first frame (M_0 = E_0) and `"zero"` from silence. It is the
reference that the trainable PCEN layer of speechkit.nn is tested against.

`pcen_fbank` is the `--type pcen` feature: Kaldi fbank frames with linear energies
(use_log_fbank false, on the int16 sample scale), then PCEN over time.
"""
import numpy as np
import scipy.signal

from speechkit.features import kaldi
from speechkit.features.config import PCEN_INITS, default_options, resolve


def smoothing_coef(time_constant, frame_rate):
    """librosa's s for a time constant in seconds at `frame_rate` frames per second.

    With T = time_constant * frame_rate frames, s solves s^2 + (1 - s)/T - 2 = 0 (the full width
    at half maximum of the smoother's squared frequency response): s = (sqrt(1+4T^2) - 1) / (2T^2).
    """
    t = time_constant * frame_rate
    return (np.sqrt(1 + 4 * t ** 2) - 1) / (2 * t ** 2)


def _previous_state(energies, init):
    """M_{-1}, the smoother's value before the first frame, shape (1, bands)."""
    if init == "librosa":
        return np.ones_like(energies[:1])
    if init == "first":
        return energies[:1].copy()
    if init == "zero":
        return np.zeros_like(energies[:1])
    raise ValueError(f"pcen init must be one of {PCEN_INITS}, got {init!r}")


def pcen(energies, s, gain=0.98, bias=2.0, power=0.5, eps=1e-6, init="librosa"):
    """PCEN of non-negative energies (frames, bands) along frames; float64 (frames, bands)."""
    e = np.asarray(energies, dtype=np.float64)
    if e.shape[0] == 0:
        return e.copy()
    # lfilter's state for y[n] = s x[n] + (1 - s) y[n-1] is (1 - s) y[-1].
    zi = (1 - s) * _previous_state(e, init)
    smoothed, _ = scipy.signal.lfilter([s], [1, s - 1], e, axis=0, zi=zi)
    # (eps + M)^-gain in log space, as librosa does, for stability at small M.
    agc = np.exp(-gain * (np.log(eps) + np.log1p(smoothed / eps)))
    if power == 0:
        return np.log1p(e * agc)
    if bias == 0:
        return np.exp(power * (np.log(e) + np.log(agc)))
    return bias ** power * np.expm1(power * np.log1p(e * agc / bias))


def frame_rate(options):
    """Frames per second of the Kaldi framing in `options`."""
    _, shift = kaldi.frame_geometry(options)
    return options["sample_frequency"] / shift


def pcen_fbank(waveform, options=None):
    """`--type pcen`: PCEN of Kaldi fbank energies, float32 (frames, num_mel_bins)."""
    options = resolve("pcen", options)
    fbank_names = default_options("fbank")
    fbank_opts = {k: v for k, v in options.items() if k in fbank_names}
    energies = kaldi.fbank(waveform, {**fbank_opts, "use_log_fbank": False})
    s = options["smooth_coef"]
    if s is None:
        s = smoothing_coef(options["time_constant"], frame_rate(options))
    out = pcen(energies, s, gain=options["gain"], bias=options["bias"], power=options["power"],
               eps=options["eps"], init=options["pcen_init"])
    return out.astype(np.float32)

"""Mel-cepstrum <-> spectral envelope as cached matrices: pysptk's numbers without its frame loop.

`pysptk.sp2mc(sp, order, alpha)` takes, frame by frame in Python, the cepstrum of the power
spectrum (`c = irfft(log sp)`, then `c[0] /= 2`) and warps it to the mel scale with SPTK's
`freqt`. Every step is linear in `log sp`, so the whole chain is one (bins x order+1) matrix:
`mcep = log(sp) @ sp2mc_matrix(fft_size, order, alpha)`. `mc2sp` is likewise
`sp = exp(mcep @ mc2sp_matrix(fft_size, order, alpha))`. Matrices are cached per
(fft_size, order, alpha) and returned read-only.

Default all-pass constant: `default_alpha(fs)` is pysptk.util.mcepalpha(fs) (the alpha whose
warping best fits the mel scale), rounded to 3 decimals: 0.312 at 8 kHz, 0.41 at 16 kHz, 0.455 at
22.05 kHz, 0.466 at 24 kHz, 0.544 at 44.1 kHz, 0.554 at 48 kHz. SPTK's manual table gives 0.42 at
16 kHz; pass --alpha 0.42 to match recipes that use it.
"""
import warnings
from functools import lru_cache

import numpy as np

from speechkit.errors import SpeechkitError


@lru_cache(maxsize=None)
def default_alpha(sample_rate):
    """The all-pass constant that best approximates the mel scale at `sample_rate` Hz."""
    with warnings.catch_warnings():
        # pysptk 1.0 imports pkg_resources, which warns; setuptools<81 keeps it working.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated",
                                category=UserWarning)
        from pysptk.util import mcepalpha  # lazy: only needed when no alpha is given
    return round(float(mcepalpha(sample_rate)), 3)


def _freqt_step(out_order, alpha):
    """The zero-input state update of SPTK's freqt recursion, as a square matrix.

    SPTK runs, for each input coefficient from the last to c[0]: d = g; g[0] = c + a d[0];
    g[1] = (1-a^2) d[0] + a d[1]; g[j] = d[j-1] + a (d[j] - g[j-1]). Applying it to the identity
    gives its matrix.
    """
    d = np.eye(out_order + 1)
    g = np.zeros_like(d)
    g[0] = alpha * d[0]
    if out_order >= 1:
        g[1] = (1 - alpha * alpha) * d[0] + alpha * d[1]
    for j in range(2, out_order + 1):
        g[j] = d[j - 1] + alpha * (d[j] - g[j - 1])
    return g


def freqt_matrix(in_order, out_order, alpha):
    """(out_order+1, in_order+1) matrix A with A @ c == pysptk.freqt(c, out_order, alpha).

    Input coefficient n enters the state as e_0 and then passes through n zero-input steps, so
    column n is T^n e_0.
    """
    step = _freqt_step(out_order, alpha)
    out = np.empty((out_order + 1, in_order + 1))
    col = np.zeros(out_order + 1)
    col[0] = 1.0
    for n in range(in_order + 1):
        out[:, n] = col
        col = step @ col
    return out


def _check_fft_size(fft_size):
    if fft_size < 4 or fft_size % 2:
        raise SpeechkitError(f"fft size {fft_size}: expected an even number >= 4")


@lru_cache(maxsize=32)
def sp2mc_matrix(fft_size, order, alpha):
    """(fft_size//2+1, order+1) matrix W: log(sp) @ W == pysptk.sp2mc(sp, order, alpha)."""
    _check_fft_size(fft_size)
    nbins = fft_size // 2 + 1
    to_cepstrum = np.fft.irfft(np.eye(nbins), n=fft_size, axis=1)  # log sp -> c, row-wise
    to_cepstrum[:, 0] /= 2.0
    mat = to_cepstrum @ freqt_matrix(fft_size - 1, order, float(alpha)).T
    mat.flags.writeable = False
    return mat


@lru_cache(maxsize=32)
def mc2sp_matrix(fft_size, order, alpha):
    """(order+1, fft_size//2+1) matrix M: exp(mc @ M) == pysptk.mc2sp(mc, alpha, fft_size)."""
    _check_fft_size(fft_size)
    half = fft_size // 2
    ceps = freqt_matrix(order, half, -float(alpha)).T  # mc -> c[0..half], row per input coef
    ceps[:, 0] *= 2.0
    symmetric = np.concatenate([ceps, ceps[:, half - 1:0:-1]], axis=1)  # c[0..half], c[half-1..1]
    mat = np.fft.rfft(symmetric, axis=1).real
    mat.flags.writeable = False
    return mat


def sp2mc(powerspec, order, alpha):
    """Mel-cepstrum (..., order+1) of power spectra (..., fft_size//2+1); same as pysptk.sp2mc."""
    powerspec = np.asarray(powerspec, dtype=np.float64)
    fft_size = 2 * (powerspec.shape[-1] - 1)
    return np.log(powerspec) @ sp2mc_matrix(fft_size, int(order), float(alpha))


def mc2sp(mc, alpha, fft_size):
    """Power spectra (..., fft_size//2+1) of mel-cepstra (..., order+1); same as pysptk.mc2sp."""
    mc = np.asarray(mc, dtype=np.float64)
    return np.exp(mc @ mc2sp_matrix(int(fft_size), mc.shape[-1] - 1, float(alpha)))

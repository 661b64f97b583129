"""WORLD vocoder features through pyworld: analysis, mel-cepstral coding, and resynthesis.

Analysis is F0 (dio refined by stonemask, or harvest), spectral envelope (cheaptrick) and
aperiodicity (d4c). Coded, an utterance is three Kaldi-friendly float32 matrices:

  mcep  (frames, order+1)  mel-cepstrum c0..c{order} of the envelope (speechkit.features.mcep)
  lf0   (frames, 1)        natural log of F0 in Hz; 0 marks an unvoiced frame. Any real F0 is
                           far above 1 Hz, so lf0 > 0 exactly on voiced frames.
  bap   (frames, bands)    band aperiodicity in dB (pyworld.code_aperiodicity); 1 band at
                           16 kHz, 2 at 22.05/24 kHz, 5 at 44.1/48 kHz.

`synthesize` inverts the coding; it needs the same alpha, fft size and frame period.
"""
import warnings

import numpy as np

from speechkit.errors import SpeechkitError
from speechkit.features.mcep import default_alpha, mc2sp, sp2mc

with warnings.catch_warnings():
    # pyworld 0.3.5 imports pkg_resources, which warns on every run; setuptools<81 keeps it there.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import pyworld

F0_METHODS = ("dio", "harvest")


def resolve_fft_size(sample_rate, fft_size=None, f0_floor=71.0):
    """The cheaptrick/d4c FFT size: the given one, or WORLD's smallest that covers f0_floor.

    A given size must be a power of two; a small one raises the lowest F0 cheaptrick can
    represent (pyworld.get_cheaptrick_f0_floor).
    """
    if fft_size is None:
        return int(pyworld.get_cheaptrick_fft_size(sample_rate, f0_floor))
    fft_size = int(fft_size)
    if fft_size < 64 or fft_size & (fft_size - 1):
        raise SpeechkitError(f"fft size {fft_size}: expected a power of two >= 64")
    return fft_size


def analyze(wav, sample_rate, frame_period=5.0, f0_method="dio", f0_floor=71.0, f0_ceil=800.0,
            fft_size=None):
    """WORLD analysis of 1-D audio -> (f0 (T,), sp (T, fft_size//2+1), ap (same)), float64."""
    if f0_method not in F0_METHODS:
        raise SpeechkitError(f"unknown F0 method '{f0_method}': use one of {', '.join(F0_METHODS)}")
    x = np.ascontiguousarray(wav, dtype=np.float64)
    fft_size = resolve_fft_size(sample_rate, fft_size, f0_floor)
    if f0_method == "dio":
        f0, times = pyworld.dio(x, sample_rate, f0_floor=f0_floor, f0_ceil=f0_ceil,
                                frame_period=frame_period)
        f0 = pyworld.stonemask(x, f0, times, sample_rate)
    else:
        f0, times = pyworld.harvest(x, sample_rate, f0_floor=f0_floor, f0_ceil=f0_ceil,
                                    frame_period=frame_period)
    # d4c must use the envelope's FFT size (its own default assumes f0_floor = 71 Hz).
    sp = pyworld.cheaptrick(x, f0, times, sample_rate, fft_size=fft_size)
    ap = pyworld.d4c(x, f0, times, sample_rate, fft_size=fft_size)
    return f0, sp, ap


def f0_to_lf0(f0):
    """log F0 with 0 for unvoiced frames, shape (T, 1)."""
    f0 = np.asarray(f0, dtype=np.float64).reshape(-1)
    lf0 = np.zeros_like(f0)
    voiced = f0 > 0
    lf0[voiced] = np.log(f0[voiced])
    return lf0[:, None]


def lf0_to_f0(lf0):
    """Inverse of f0_to_lf0: F0 in Hz (T,), 0 where lf0 <= 0."""
    lf0 = np.asarray(lf0, dtype=np.float64).reshape(-1)
    return np.where(lf0 > 0, np.exp(lf0), 0.0)


def encode(wav, sample_rate, order=39, alpha=None, **analysis):
    """Audio -> (mcep, lf0, bap) float32 matrices with one row per frame (see module doc).

    `analysis` takes analyze()'s keywords (frame_period, f0_method, f0_floor, f0_ceil, fft_size).
    """
    alpha = default_alpha(sample_rate) if alpha is None else alpha
    f0, sp, ap = analyze(wav, sample_rate, **analysis)
    mcep = sp2mc(sp, order, alpha)
    bap = pyworld.code_aperiodicity(ap, sample_rate)
    return tuple(np.asarray(m, dtype=np.float32) for m in (mcep, f0_to_lf0(f0), bap))


def synthesize(f0, mcep, bap, sample_rate, frame_period=5.0, alpha=None, fft_size=None,
               f0_floor=71.0):
    """(f0 (T,) in Hz, mcep (T, order+1), bap (T, bands)) -> float64 audio.

    alpha, fft_size and frame_period must be those of the analysis (same defaults); pass
    lf0_to_f0(lf0) for features stored as lf0.
    """
    alpha = default_alpha(sample_rate) if alpha is None else alpha
    fft_size = resolve_fft_size(sample_rate, fft_size, f0_floor)
    f0 = np.ascontiguousarray(np.asarray(f0, dtype=np.float64).reshape(-1))
    sp = np.ascontiguousarray(mc2sp(mcep, alpha, fft_size))
    bap = np.ascontiguousarray(bap, dtype=np.float64)
    if not len(f0) == len(sp) == len(bap):
        raise SpeechkitError(f"frame counts differ: f0 {len(f0)}, mcep {len(sp)}, bap {len(bap)}")
    ap = pyworld.decode_aperiodicity(bap, sample_rate, fft_size)
    return pyworld.synthesize(f0, sp, ap, sample_rate, frame_period)

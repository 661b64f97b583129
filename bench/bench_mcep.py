"""Benchmark: pysptk.sp2mc/mc2sp (a Python loop over frames) against speechkit's cached matrices.

Spectral envelopes come from WORLD analysis of synthetic vowel-like audio (gliding F0 through
formant resonators), several utterances of a few hundred frames each. Both versions run in the
same process on the same envelopes; the script prints the best-of-N times, the speed-up and the
largest absolute difference. The one-off matrix construction is timed separately.

    PYTHONPATH=. python bench/bench_mcep.py [--utts 8] [--seconds 2.5] [--order 39]
"""
import argparse
import time

import numpy as np
from scipy.signal import lfilter

from speechkit.features import mcep, world

import pysptk  # after speechkit.features.world, whose pyworld import silenced pkg_resources


def synthetic_voice(sr, seconds, seed):
    """Pulse train with a gliding F0 through three formant resonators, plus a little noise."""
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    t = np.arange(n) / sr
    lo, hi = rng.uniform(90, 140), rng.uniform(160, 260)
    freq = np.linspace(lo, hi, n) * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))
    src = np.diff(np.floor(np.cumsum(freq) / sr), prepend=0.0) + 1e-3 * rng.standard_normal(n)
    r = np.exp(-np.pi * 100 / sr)
    for fc in rng.uniform([300, 1000, 2200], [800, 2000, 3200]):
        src = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / sr), r * r], src)
    return 0.5 * src / np.abs(src).max()


def best_time(fn, repeat):
    """Best wall time of `repeat` calls of fn() (seconds), and its last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def compare(name, reference, fast, repeat, frames, measure=lambda x: x):
    """Time both; the difference is taken of measure(output) (log for power spectra)."""
    t_ref, ref = best_time(reference, repeat)
    t_fast, got = best_time(fast, repeat)
    diff = max(float(np.max(np.abs(measure(a) - measure(b)))) for a, b in zip(ref, got))
    print(f"{name:7s} pysptk {t_ref * 1e3:9.2f} ms ({t_ref / frames * 1e6:6.2f} us/frame)   "
          f"matrix {t_fast * 1e3:8.2f} ms ({t_fast / frames * 1e6:6.3f} us/frame)   "
          f"speed-up {t_ref / t_fast:6.1f}x   max |diff| {diff:.2e}")
    return t_ref / t_fast, diff


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--utts", type=int, default=8, help="utterances (default: %(default)s)")
    p.add_argument("--seconds", type=float, default=2.5, help="seconds each (default: %(default)s)")
    p.add_argument("--sample-rate", type=int, default=16000, help="(default: %(default)s)")
    p.add_argument("--order", type=int, default=39, help="mel-cepstrum order (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=5, help="timing repeats, best kept (default: %(default)s)")
    args = p.parse_args()

    sr, order = args.sample_rate, args.order
    alpha = mcep.default_alpha(sr)
    envelopes = [world.analyze(synthetic_voice(sr, args.seconds, seed), sr)[1]
                 for seed in range(args.utts)]
    fft_size = 2 * (envelopes[0].shape[1] - 1)
    frames = sum(len(sp) for sp in envelopes)
    print(f"{args.utts} utterances, {frames} frames, fft size {fft_size}, order {order}, "
          f"alpha {alpha}, sample rate {sr}")

    start = time.perf_counter()
    mcep.sp2mc_matrix(fft_size, order, alpha)
    mcep.mc2sp_matrix(fft_size, order, alpha)
    print(f"matrix construction (once per fft size, order, alpha; cached): "
          f"{(time.perf_counter() - start) * 1e3:.1f} ms")

    compare("sp2mc", lambda: [pysptk.sp2mc(sp, order, alpha) for sp in envelopes],
            lambda: [mcep.sp2mc(sp, order, alpha) for sp in envelopes], args.repeat, frames)
    mceps = [pysptk.sp2mc(sp, order, alpha) for sp in envelopes]
    compare("mc2sp", lambda: [pysptk.mc2sp(mc, alpha, fft_size) for mc in mceps],
            lambda: [mcep.mc2sp(mc, alpha, fft_size) for mc in mceps], args.repeat, frames,
            measure=np.log)
    print("(mc2sp: max |diff| of the log power spectrum)")


if __name__ == "__main__":
    main()

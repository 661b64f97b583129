"""Benchmark: time per utterance of each enhancement metric (speechkit.metrics.enhance) on a
3 s, 16 kHz pair, and of our LLR / WSS / segSNR against pysepm-evo's in the same run.

The pair is speech-like audio (a pulse train through formant resonators, as in the tests) plus
white noise at 5 dB. Every method runs `--repeat` times, interleaved round-robin so that load
from other processes hits them alike; the best time of each is kept. pysepm-evo's numba helpers
are compiled by a warm-up call before timing (the compile, ~20 s, is not counted). It needs two
import shims on current scipy (see tests/test_enhance_metrics.py).

    PYTHONPATH=. OMP_NUM_THREADS=1 python bench/bench_enhance_metrics.py [--repeat 5] [--seconds 3]
"""
import argparse
import sys
import time
import types

import numpy as np
import scipy.signal

from speechkit.metrics import composite as comp
from speechkit.metrics.enhance import pesq, score_pair, si_sdr, stoi

RATE = 16000


def speechlike(seconds, rate=RATE, seed=0):
    """Voiced-speech-like audio with pauses over a -70 dB noise floor."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    y = (np.diff(np.floor(np.cumsum(f0) / rate), prepend=0) > 0).astype(float)
    for fc, bw in [(700, 130), (1220, 70), (2600, 160)]:
        r, theta = np.exp(-np.pi * bw / rate), 2 * np.pi * fc / rate
        y = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], y)
    y *= np.clip(np.sin(2 * np.pi * 2.2 * t), 0, None) ** 0.5
    return 0.3 * (y / np.max(np.abs(y)) + 1e-3 * rng.standard_normal(n))


def load_pysepm():
    """pysepm_evo with the shims its 0.1.1 release needs on scipy >= 1.13; None if missing."""
    scipy.signal.kaiser = getattr(scipy.signal, "kaiser", scipy.signal.windows.kaiser)
    sys.modules.setdefault("srmrpy", types.ModuleType("srmrpy"))
    try:
        import pysepm_evo
    except ImportError:
        return None
    return pysepm_evo


def methods(ps):
    """name -> callable(ref, est); reference rows ('pysepm ...') when pysepm-evo is present."""
    rows = {
        "pesq (wb)": lambda x, y: pesq(x, y, RATE),
        "stoi": lambda x, y: stoi(x, y, RATE),
        "estoi": lambda x, y: stoi(x, y, RATE, extended=True),
        "si_sdr": si_sdr,
        "segsnr": lambda x, y: comp.segsnr(x, y, RATE),
        "llr": lambda x, y: comp.llr(x, y, RATE),
        "wss": lambda x, y: comp.wss(x, y, RATE),
        "composite (no pesq)": lambda x, y: comp.composite(x, y, RATE, pesq=3.0),
        "score_pair (all)": lambda x, y: score_pair(x, y, RATE),
    }
    if ps is not None:
        rows.update({
            "pysepm segsnr": lambda x, y: ps.SNRseg(x, y, RATE),
            "pysepm llr": lambda x, y: ps.llr(x, y, RATE, used_for_composite=True),
            "pysepm wss": lambda x, y: ps.wss(x, y, RATE),
        })
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    x = speechlike(args.seconds)
    noise = np.random.default_rng(1).standard_normal(len(x))
    y = x + noise * np.sqrt(np.sum(x ** 2) / np.sum(noise ** 2) / 10 ** 0.5)  # 5 dB
    rows = methods(load_pysepm())
    for fn in rows.values():  # warm-up: imports, numba compiles
        fn(x, y)
    best = {name: np.inf for name in rows}
    for _ in range(args.repeat):
        for name, fn in rows.items():
            start = time.perf_counter()
            fn(x, y)
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"{args.seconds:g} s at {RATE} Hz, best of {args.repeat}")
    print(f"{'metric':22s} {'ms/utt':>9s} {'x realtime':>11s} {'vs pysepm':>10s}")
    for name, sec in best.items():
        ref = best.get(f"pysepm {name}")
        ratio = f"{ref / sec:9.1f}x" if ref is not None else ""
        print(f"{name:22s} {1000 * sec:9.1f} {args.seconds / sec:11.0f} {ratio:>10s}")


if __name__ == "__main__":
    main()

"""Benchmark: the trainable PCEN layer (speechkit.nn.pcen.PCEN, chunked scan) against a naive
Python loop over frames, torchaudio's lfilter smoother and librosa.pcen, on CPU.

Shapes are batch x bands x frames. For each, all methods run on the same gamma-distributed
float32 energies (a tenth of the frames silent), interleaved round-robin `--repeat` times so
that load from other processes hits them alike; the best time of each is kept. Forward+backward
means y.backward(G) for a fixed random G, with gradients for the input and all four per-band
parameters ("params" rows: for the parameters only, the usual case of a first layer whose input
is data); "fwd" rows are forward only, without autograd. The naive loop and the lfilter rows are
the same formula under plain autograd with the smoother as a Python loop over frames or
torchaudio.functional.lfilter. librosa.pcen (numpy, forward only, no gradients) runs once per
utterance of the batch with the same s, gain, bias, power and eps and its default initial state
(our init="librosa"); the last column checks that our float32 forward matches it. On a shared
machine, multi-threaded torch suffers far more from other load than numpy: see --threads 1.

    PYTHONPATH=. python bench/bench_pcen.py [--threads 2] [--repeat 7] [--chunks 32,64,128,256]
        [--shapes 32x80x600,1x80x6000] [--no-loop]
"""
import argparse
import os
import time

import librosa
import numpy as np
import torch

from speechkit.nn.pcen import PCEN, ema_lfilter, ema_loop, pcen_naive

SHAPES = [(32, 80, 600), (1, 80, 6000)]
S = 0.025


def energies(shape, seed=0):
    """Mel-energy-like float32 data on the int16 power scale, with silent stretches."""
    rng = np.random.default_rng(seed)
    x = rng.gamma(0.5, 1e5, size=shape) * rng.uniform(0.01, 1, size=shape[:-1] + (1,))
    x[..., : shape[-1] // 10] = 0.0
    return x.astype(np.float32)


def librosa_forward(x):
    return [librosa.pcen(u, b=S, gain=0.98, bias=2.0, power=0.5, eps=1e-6) for u in x]


def torch_step(fn, x, grad, mode):
    """One call: forward only, or forward+backward with gradients for x and the parameters
    ("x+params") or for the parameters only ("params": x is data, the usual case)."""
    if mode == "fwd":
        with torch.no_grad():
            return fn(x)
    x = x.detach().requires_grad_(mode == "x+params")
    fn(x).backward(grad)
    return None


def methods(shape, chunks, loop):
    """name -> (callable on a torch tensor, or None for librosa on numpy; mode for torch_step)."""
    layers = {c: PCEN(shape[1], s=S, init="librosa", chunk=c) for c in chunks}
    ref = PCEN(shape[1], s=S, init="librosa")

    def naive(smoother):
        return lambda x: pcen_naive(x, ref.s, ref.alpha, ref.delta, ref.r, init="librosa",
                                    smoother=smoother)

    table = {"librosa.pcen fwd": (None, "fwd"), "lfilter": (naive(ema_lfilter), "x+params")}
    if loop:
        table["loop"] = (naive(ema_loop), "x+params")
    for c, layer in layers.items():
        table[f"scan c={c} fwd"] = (layer, "fwd")
        table[f"scan c={c}"] = (layer, "x+params")
        table[f"scan c={c} params"] = (layer, "params")
    return table


def run_shape(shape, args):
    x_np = energies(shape)
    x = torch.from_numpy(x_np)
    grad = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    table = methods(shape, args.chunks, not args.no_loop)
    best = {name: float("inf") for name in table}
    for rep in range(args.repeat):
        for name, (fn, mode) in table.items():
            if name == "loop" and rep >= args.loop_repeat:
                continue
            start = time.perf_counter()
            if fn is None:
                librosa_forward(x_np)
            else:
                torch_step(fn, x, grad, mode)
            best[name] = min(best[name], time.perf_counter() - start)
    return best, max_diff(table, x, x_np)


def max_diff(table, x, x_np):
    """Largest |ours - librosa| relative to librosa's largest output, per chunk size."""
    ref = np.stack(librosa_forward(x_np))
    out = {}
    for name, (fn, mode) in table.items():
        if name.startswith("scan") and mode == "fwd":
            with torch.no_grad():
                out[name] = float(np.abs(fn(x).numpy() - ref).max() / np.abs(ref).max())
    return out


def report(shape, best, diff, chunks):
    lib = best["librosa.pcen fwd"]
    naive = best.get("loop", float("nan"))
    print(f"\n{shape[0]} x {shape[1]} x {shape[2]} (batch x bands x frames), load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'method':20s} {'ms':>9s} {'/ librosa fwd':>14s} {'loop /':>8s}  "
          "max |ours - librosa| / max |librosa|")
    for name, t in best.items():
        extra = f"  {diff[name]:.1e}" if name in diff else ""
        print(f"{name:20s} {t * 1e3:9.2f} {t / lib:14.2f} {naive / t:8.1f}{extra}")
    for suffix, what in (("", "input and parameter gradients"), (" params", "parameter gradients")):
        scans = {f"scan c={c}{suffix}": best[f"scan c={c}{suffix}"] for c in chunks}
        name = min(scans, key=scans.get)
        print(f"best with {what}: {name}: forward+backward {scans[name] * 1e3:.2f} ms = "
              f"{scans[name] / lib:.2f} x librosa's forward, {naive / scans[name]:.1f} x faster "
              "than the loop")


def parse_shapes(text):
    return [tuple(int(n) for n in shape.split("x")) for shape in text.split(",")]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=7,
                   help="timing rounds, best kept (default: %(default)s)")
    p.add_argument("--loop-repeat", type=int, default=1,
                   help="rounds for the slow loop (default: %(default)s)")
    p.add_argument("--chunks", type=lambda s: [int(c) for c in s.split(",")],
                   default=[32, 64, 128, 256], help="scan chunk sizes (default: 32,64,128,256)")
    p.add_argument("--shapes", type=parse_shapes, default=SHAPES,
                   help="batch x bands x frames, comma-separated (default: 32x80x600,1x80x6000)")
    p.add_argument("--no-loop", action="store_true", help="skip the naive loop")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, librosa {librosa.__version__}, {args.threads} torch "
          f"threads, {os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}")
    if os.getloadavg()[0] > 0.5 and args.threads > 1 and args.threads >= (os.cpu_count() or 1):
        print("note: other processes are running; multi-threaded torch ops stall when a thread "
              "loses its core (times can grow 10x or more), single-threaded numpy hardly: "
              "compare with --threads 1")
    print("times: forward+backward (gradients for the input and the 4 per-band parameters; "
          "'params': parameters only), 'fwd': forward only, no gradients")
    for shape in args.shapes:
        report(shape, *run_shape(shape, args), args.chunks)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

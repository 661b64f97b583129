"""Benchmark: MultiscaleConv2d (speechkit.nn.mts_conv) against nn.Conv2d with the same kernel,
forward+backward, on CPU.

Emotion-like shapes: a batch of `--batch` (100, the authors') single-channel maps of `--frames`
frames x 513 bins, 10 output channels, kernel [10, 5]: the first layer of the authors' networks.
The input is data (no gradient); backward computes the parameters' gradients for a fixed random
upstream gradient. For each scale set, Conv2d and the MTS layer (in-graph, and faithful) run
interleaved round-robin `--repeat` times so that load from other processes hits them alike; the
best time of each is kept. Times are this process's CPU time by default (`--clock cpu`), which
other processes' load on a shared machine disturbs far less than wall time; with more than one
thread, CPU time sums over threads, so use `--clock wall` there. The ratio is MTS time / Conv2d
time; the target is at most branches + 0.5 (branches counting the original). The "convs only"
column is the ratio for the branch convolutions alone (the resampled kernels' F.conv2d
forward+backward, without resizing and merging): the floor for any implementation built on
F.conv2d.

    PYTHONPATH=. python bench/bench_mts_conv.py [--threads 1] [--clock cpu|wall] [--repeat 5]
        [--frames 63] [--batch 100] [--output-type pooled_map]
"""
import argparse
import time

import torch
from torch import nn

from speechkit.nn.mts_conv import MultiscaleConv2d, resample_kernel

SCALE_SETS = {
    "0.7,1.428": [(0.7, 1.0), (1.428, 1.0)],
    "0.5,2": [(0.5, 1.0), (2.0, 1.0)],
    "all four": [(0.5, 1.0), (0.7, 1.0), (1.428, 1.0), (2.0, 1.0)],
}
KERNEL = (10, 5)
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


class BranchConvs(nn.Module):
    """The MTS layer's convolutions alone: one output per branch kernel, nothing merged."""

    def __init__(self, mts):
        super().__init__()
        self.mts = mts

    def forward(self, x):
        kernels = [self.mts.weight] + [resample_kernel(self.mts.weight, s)
                                       for s in self.mts.scale_factors]
        return [self.mts._branch_conv(x, w) for w in kernels]


def step(layer, x, grad):
    layer.zero_grad(set_to_none=True)
    out = layer(x)
    if isinstance(out, list):
        torch.autograd.backward(out, grad)
    else:
        out.backward(grad)


def best_times(layers, x, grads, repeat, clock):
    """name -> best forward+backward seconds, the layers interleaved round-robin."""
    best = {name: float("inf") for name in layers}
    for name, layer in layers.items():  # warm-up (allocator, one-off kernel selection)
        step(layer, x, grads[name])
    for _ in range(repeat):
        for name, layer in layers.items():
            start = clock()
            step(layer, x, grads[name])
            best[name] = min(best[name], clock() - start)
    return best


def rand_like(out):
    return [torch.randn_like(o) for o in out] if isinstance(out, list) else torch.randn_like(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--frames", type=int, default=63)
    parser.add_argument("--bins", type=int, default=513)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--output-type", default="pooled_map")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 1, args.frames, args.bins)
    print(f"batch {args.batch} x 1 x {args.frames} frames x {args.bins} bins -> "
          f"{args.channels} channels, kernel {list(KERNEL)}, {args.threads} thread(s), "
          f"best {args.clock} time of {args.repeat}, forward+backward, {args.output_type}")
    print(f"{'scales':<10} {'branches':>8} {'conv ms':>8} {'mts ms':>8} {'ratio':>6} "
          f"{'faithful ms':>11} {'ratio':>6} {'target':>6} {'convs only':>10}")
    for label, scales in SCALE_SETS.items():
        conv = nn.Conv2d(1, args.channels, KERNEL)
        layers = {"conv": conv}
        for faithful in (False, True):
            mts = MultiscaleConv2d(1, args.channels, KERNEL, scale_factors=scales,
                                   output_type=args.output_type, faithful=faithful)
            mts.load_state_dict(conv.state_dict())
            layers["faithful" if faithful else "mts"] = mts
        layers["convs"] = BranchConvs(layers["mts"])
        grads = {name: rand_like(layer(x)) for name, layer in layers.items()}
        best = best_times(layers, x, grads, args.repeat, CLOCKS[args.clock])
        branches = 1 + len(scales)
        print(f"{label:<10} {branches:>8} {1e3 * best['conv']:>8.1f} {1e3 * best['mts']:>8.1f} "
              f"{best['mts'] / best['conv']:>6.2f} {1e3 * best['faithful']:>11.1f} "
              f"{best['faithful'] / best['conv']:>6.2f} {branches + 0.5:>6.1f} "
              f"{best['convs'] / best['conv']:>10.2f}")


if __name__ == "__main__":
    main()

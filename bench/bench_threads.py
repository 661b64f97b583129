"""Benchmark: CPU training beside another CPU-bound process, with threads chosen per epoch from
the idle CPUs (train.num_threads: auto) against a fixed count of every usable CPU (the old
OMP_NUM_THREADS=2).

An "epoch" is --batches training steps (forward, CTC loss, backward, Adam) of the default asr
network (egs/asr/conf/train.yaml) on random 80-dim features, batches of --batch utterances of
--frames frames. Three runs in one process, the competitor being `python -c 'while True: pass'`:

  alone        auto threads, nothing else running
  beside/fixed every usable CPU as threads, one competitor running
  beside/auto  threads from speechkit.train.threads.choose_threads(), one competitor running

It prints seconds per epoch and the ratios to `alone`; the target for beside/auto is at most
2.5x. Run it on an otherwise idle machine: other load is measured as competition too.

    tools/venv/bin/python bench/bench_threads.py [--batches 12] [--batch 16] [--frames 400]
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import torch
import yaml

from speechkit.nn.registry import build_model
from speechkit.train.threads import choose_threads, usable_cpus

REPO = Path(__file__).resolve().parents[1]


def epoch(model, opt, args, threads):
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    tic = time.perf_counter()
    for _ in range(args.batches):
        x = torch.randn(args.batch, args.frames, 80, generator=gen)
        lengths = torch.full((args.batch,), args.frames)
        targets = torch.randint(3, 30, (args.batch, args.frames // 12), generator=gen)
        log_probs, out_lengths = model(x, lengths)
        loss = torch.nn.functional.ctc_loss(
            log_probs.transpose(0, 1), targets, out_lengths,
            torch.full((args.batch,), targets.shape[1]), zero_infinity=True)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - tic


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=400)
    args = parser.parse_args()
    conf = yaml.safe_load((REPO / "egs/asr/conf/train.yaml").read_text())["model"]
    torch.manual_seed(0)
    model = build_model(conf, 80, 30)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    cpus = usable_cpus()
    epoch(model, opt, args, cpus)  # warm-up
    results = {"alone": (choose_threads("auto"), None)}
    results["alone"] = (results["alone"][0], epoch(model, opt, args, results["alone"][0]))
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        results["beside/fixed"] = (cpus, epoch(model, opt, args, cpus))
        threads = choose_threads("auto")
        results["beside/auto"] = (threads, epoch(model, opt, args, threads))
    finally:
        spinner.kill()
    alone = results["alone"][1]
    print(f"{cpus} usable CPUs; epoch = {args.batches} batches of {args.batch} x {args.frames} frames")
    print(f"{'run':<14}{'threads':>8}{'s/epoch':>10}{'x alone':>9}")
    for name, (threads, seconds) in results.items():
        print(f"{name:<14}{threads:>8}{seconds:>10.2f}{seconds / alone:>9.2f}")
    print(f"target: beside/auto at most 2.5x alone -> "
          f"{'met' if results['beside/auto'][1] <= 2.5 * alone else 'NOT met'}")


if __name__ == "__main__":
    main()

"""Benchmark: PHASEN (speechkit.nn.phasen) on CPU, small, small3 and paper configs, in one run.

small is the CPU default of egs/enhance (one two-stream block), small3 the same with the
paper's three blocks (the default before 2026-12-03), paper the paper's size.

For each config:
- train: forward+backward (loss against a clean target, train mode) on a `--train-seconds`
  input, best of `--repeat`; printed as seconds of compute per second of audio;
- whole: inference (eval, no_grad) on a `--seconds` input (10 s by default) in one pass:
  real-time factor (compute time / audio time) and peak memory;
- chunked: the same input through enhance_long (4 s chunks, 0.5 s overlap).
Each measurement runs in a fresh child process, so that its peak resident memory
(ru_maxrss) is its own: "peak" is the child's maximum RSS, "extra" the growth over the RSS after
building the model and a warm-up on 0.1 s. The ratio lines compare small3 and paper with
small, and chunked with whole, measured in the same run. On a shared machine, use --threads 1
and compare ratios rather than absolute times.

    PYTHONPATH=. python bench/bench_phasen.py [--threads 2] [--repeat 2] [--seconds 10]
        [--train-seconds 1] [--configs small,small3,paper]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

SR = 16000


def config_table():
    from speechkit.nn.phasen import PAPER, SMALL
    return {"small": SMALL, "small3": {**SMALL, "num_blocks": 3}, "paper": PAPER}


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speech_like(seconds, seed=0, noise=0.0):
    import torch
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * SR)) / SR
    x = sum(torch.sin(2 * torch.pi * 150 * k * t + k) / k for k in range(1, 6)) * 0.2
    return (x + noise * torch.randn(len(t), generator=g)).unsqueeze(0)


def child(args):
    """One measurement in this process; prints a JSON line."""
    import torch
    from speechkit.nn.phasen import PHASEN
    from speechkit.nn.phasen_chunks import enhance_long

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = PHASEN(**config_table()[args.config])
    with torch.no_grad():
        model.eval()(speech_like(0.1, noise=0.05))
    base = maxrss_mb()
    result = dict(config=args.config, mode=args.mode, params=model.parameter_count())
    if args.mode == "train":
        model.train()
        noisy, clean = speech_like(args.train_seconds, noise=0.05), speech_like(args.train_seconds)
        best = float("inf")
        for _ in range(args.repeat):
            model.zero_grad()
            start = time.perf_counter()
            sums, bins = model.loss_terms(model(noisy), clean)
            (sums.sum() / bins.sum()).backward()
            best = min(best, time.perf_counter() - start)
        result["per_audio_s"] = best / args.train_seconds
    else:
        noisy = speech_like(args.seconds, noise=0.05)
        start = time.perf_counter()
        with torch.no_grad():
            if args.mode == "whole":
                model(noisy)
            else:
                enhance_long(model, noisy, chunk_s=4.0, overlap_s=0.5)
        result["rtf"] = (time.perf_counter() - start) / args.seconds
    result["peak_mb"], result["extra_mb"] = maxrss_mb(), maxrss_mb() - base
    print(json.dumps(result))


def measure(config, mode, args):
    cmd = [sys.executable, __file__, "--child", "--config", config, "--mode", mode,
           "--threads", str(args.threads), "--repeat", str(args.repeat),
           "--seconds", str(args.seconds), "--train-seconds", str(args.train_seconds)]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), env.get("PYTHONPATH")]))
    out = subprocess.run(cmd, env=env, check=True, text=True, stdout=subprocess.PIPE).stdout
    return json.loads(out.strip().splitlines()[-1])


def ratio(rows, config, mode, key):
    """config's measurement over small's, from the same run."""
    return rows[config, mode][key] / max(rows["small", mode][key], 1e-9)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=min(2, len(os.sched_getaffinity(0))))
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0, help="inference input length")
    p.add_argument("--train-seconds", type=float, default=1.0, help="training input length")
    p.add_argument("--configs", default="small,small3,paper")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    configs = args.configs.split(",")
    print(f"PHASEN on CPU, {args.threads} thread(s); training input {args.train_seconds} s, "
          f"inference input {args.seconds} s (chunked: 4 s chunks, 0.5 s overlap)")
    rows = {(c, m): measure(c, m, args) for c in configs for m in ("train", "whole", "chunked")}
    print(f"{'config':<7} {'params':>11} {'fwd+bwd s/audio s':>18} {'RTF whole':>10} "
          f"{'RTF chunked':>12} {'peak MB whole':>14} {'extra':>7} {'peak MB chunked':>16} "
          f"{'extra':>7}")
    for c in configs:
        t, w, ch = rows[c, "train"], rows[c, "whole"], rows[c, "chunked"]
        print(f"{c:<7} {t['params']:>11,d} {t['per_audio_s']:>18.3f} {w['rtf']:>10.3f} "
              f"{ch['rtf']:>12.3f} {w['peak_mb']:>14.0f} {w['extra_mb']:>7.0f} "
              f"{ch['peak_mb']:>16.0f} {ch['extra_mb']:>7.0f}")
    for c in configs:
        w, ch = rows[c, "whole"], rows[c, "chunked"]
        print(f"{c}: chunked / whole: time {ch['rtf'] / w['rtf']:.2f}x, extra memory "
              f"{ch['extra_mb'] / max(w['extra_mb'], 1):.2f}x")
    for c in configs if "small" in configs else []:
        if c != "small":
            print(f"{c} / small: fwd+bwd {ratio(rows, c, 'train', 'per_audio_s'):.1f}x, inference "
                  f"{ratio(rows, c, 'whole', 'rtf'):.1f}x, extra memory "
                  f"{ratio(rows, c, 'whole', 'extra_mb'):.1f}x")

if __name__ == "__main__":
    main()

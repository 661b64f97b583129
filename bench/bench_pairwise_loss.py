"""Benchmark: the vectorised pairwise KL/hinge loss (speechkit.nn.pairwise_kl) against a Python
loop over the B(B-1)/2 pairs, the shape of the original's Theano/TensorFlow scan.

Both take the same softmax outputs (B segments x C speakers, 4 speakers per 25 segments ...),
compute the loss sum and its gradient with respect to the logits; the loop is plain autograd on
one pair at a time. The two are interleaved `--repeat` times and the best time of each is kept,
so that load from other processes hits them alike. The last column checks the two sums agree.

    PYTHONPATH=. python bench/bench_pairwise_loss.py [--batch 100] [--classes 100,590]
        [--repeat 3] [--threads 1]
"""
import argparse
import time

import torch

from speechkit.nn.pairwise_kl import EPS, pairwise_kl_loss


def loop_loss(probs, labels, margin):
    """Sum over pairs i < j, one pair at a time."""
    total = probs.new_zeros(())
    for i in range(len(probs)):
        for j in range(i + 1, len(probs)):
            p, q = probs[i] + EPS, probs[j] + EPS
            kl_pq, kl_qp = (p * (p / q).log()).sum(), (q * (q / p).log()).sum()
            if labels[i] == labels[j]:
                total = total + kl_pq + kl_qp
            else:
                total = total + torch.relu(margin - kl_pq) + torch.relu(margin - kl_qp)
    return total


def vectorised_loss(probs, labels, margin):
    return pairwise_kl_loss(probs, labels, margin=margin)[0]


def timed(fn, logits, labels, margin):
    """Seconds for forward + backward, and the loss."""
    logits = logits.detach().requires_grad_()
    start = time.perf_counter()
    loss = fn(torch.softmax(logits, 1), labels, margin)
    loss.backward()
    return time.perf_counter() - start, loss.item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--classes", default="100,590", help="softmax sizes (n speakers)")
    parser.add_argument("--speakers-per-batch", type=int, default=25)
    parser.add_argument("--margin", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"B = {args.batch}, {args.batch * (args.batch - 1) // 2} pairs, forward + backward, "
          f"best of {args.repeat}, {args.threads} thread(s)")
    print(f"{'classes':>8} {'loop s':>9} {'vectorised s':>13} {'speed-up':>9} {'rel. diff':>10}")
    for classes in (int(c) for c in args.classes.split(",")):
        g = torch.Generator().manual_seed(0)
        logits = 3 * torch.randn(args.batch, classes, generator=g)
        labels = torch.arange(args.batch) % args.speakers_per_batch
        best = {"loop": float("inf"), "vec": float("inf")}
        for _ in range(args.repeat):
            for name, fn in (("loop", loop_loss), ("vec", vectorised_loss)):
                seconds, value = timed(fn, logits, labels, args.margin)
                best[name] = min(best[name], seconds)
                if name == "loop":
                    ref = value
                else:
                    diff = abs(value - ref) / abs(ref)
        print(f"{classes:>8} {best['loop']:>9.3f} {best['vec']:>13.5f} "
              f"{best['loop'] / best['vec']:>8.0f}x {diff:>10.1e}")


if __name__ == "__main__":
    main()

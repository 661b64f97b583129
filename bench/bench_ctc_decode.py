"""Benchmark: real-time factor of CTC greedy and prefix beam search on CPU.

Random log-probabilities shaped like the output of a 10 ms-frame CTC model: --utts utterances
of --min-sec to --max-sec seconds, at 100 frames/s (no subsampling) and at 25 frames/s (4x
subsampling), --classes outputs including the blank. Two kinds of output:

  flat   log_softmax of N(0, 2^2) logits: every token plausible at every frame, the worst case
         for beam search (every beam entry grows every frame)
  peaky  like a trained model: each frame has one winner at ~0.99, the blank 60% of the time

RTF = decoding time / audio duration, single process. Generating the inputs is not timed.

    PYTHONPATH=. python bench/bench_ctc_decode.py [--utts 500] [--beam 10] [--classes 30]
"""
import argparse
import time

import numpy as np

from speechkit.search.ctc import greedy_search, greedy_search_batch, prefix_beam_search


def log_softmax(x):
    return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)


def make_log_probs(kind, frames, classes, rng):
    if kind == "flat":
        return log_softmax(2.0 * rng.normal(size=(frames, classes)))
    logits = rng.normal(size=(frames, classes))
    winners = np.where(rng.random(frames) < 0.6, 0, rng.integers(1, classes, frames))
    logits[np.arange(frames), winners] += 9.0
    return log_softmax(logits)


def pad(utts):
    """(N, T_max, C) batch and lengths, as a model would output them."""
    lengths = np.array([len(u) for u in utts])
    padded = np.zeros((len(utts), lengths.max(), utts[0].shape[1]))
    for i, u in enumerate(utts):
        padded[i, :len(u)] = u
    return padded, lengths


def decoders(beam):
    """name -> function(list of (T, C) arrays, padded batch, lengths) decoding them all."""
    return {
        "greedy": lambda utts, batch, lengths: [greedy_search(lp) for lp in utts],
        "greedy, padded batch": lambda utts, batch, lengths: greedy_search_batch(batch, lengths),
        f"beam {beam}": lambda utts, batch, lengths: [
            prefix_beam_search(lp, beam=beam) for lp in utts],
        f"beam {beam}, prune 5": lambda utts, batch, lengths: [
            prefix_beam_search(lp, beam=beam, prune=5) for lp in utts],
        f"beam {beam}, token_min_logp -10": lambda utts, batch, lengths: [
            prefix_beam_search(lp, beam=beam, token_min_logp=-10.0) for lp in utts],
    }


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--utts", type=int, default=500, help="utterances (default: %(default)s)")
    p.add_argument("--min-sec", type=float, default=2.0, help="(default: %(default)s)")
    p.add_argument("--max-sec", type=float, default=4.0, help="(default: %(default)s)")
    p.add_argument("--classes", type=int, default=30,
                   help="outputs, blank included (default: %(default)s)")
    p.add_argument("--beam", type=int, default=10, help="(default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    rng = np.random.default_rng(args.seed)
    seconds = rng.uniform(args.min_sec, args.max_sec, args.utts)
    audio = seconds.sum()
    print(f"{args.utts} utterances, {audio:.0f} s of audio, {args.classes} classes, "
          f"beam {args.beam}")
    print(f"{'input':14s} {'decoder':34s} {'time (s)':>9s} {'ms/utt':>8s} {'RTF':>9s}")
    for fps in (100, 25):
        for kind in ("flat", "peaky"):
            utts = [make_log_probs(kind, int(round(s * fps)), args.classes, rng) for s in seconds]
            batch, lengths = pad(utts)
            for name, decode in decoders(args.beam).items():
                start = time.perf_counter()
                decode(utts, batch, lengths)
                took = time.perf_counter() - start
                print(f"{kind + f' {fps} fps':14s} {name:34s} {took:9.3f} "
                      f"{1e3 * took / args.utts:8.3f} {took / audio:9.2e}")


if __name__ == "__main__":
    main()

"""Is system B more accurate than system A beyond the noise of seeds and test utterances?

  speechkit compare-paired --a exp/train_pcen_fixed_seed{1,2,3} --b exp/train_pcen_seed{1,2,3}

The runs of A and B are paired by position (A's first with B's first: give them in the same
seed order). For every decode_<set> that all runs have, the per-utterance decisions (<dir>/ref
against <dir>/text, as `speechkit classify` writes them) give each system's accuracy; a paired
bootstrap that resamples seed pairs and utterances (speechkit/metrics/bootstrap.py) gives the
confidence interval of B - A and the probability that B is better, as Kaldi's
compute-wer-bootci reports it for WER. Prints a markdown table (to add to RESULTS.md); the
difference is beyond that noise when the interval excludes 0.
"""
from pathlib import Path

import numpy as np

from speechkit import cli as common
from speechkit.bin.compare import system_name
from speechkit.errors import SpeechkitError
from speechkit.io import read_dict
from speechkit.metrics.bootstrap import paired_bootstrap


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--a", nargs="+", required=True, metavar="EXP", help="runs of system A")
    parser.add_argument("--b", nargs="+", required=True, metavar="EXP", help="runs of system B")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap draws (%(default)s)")
    parser.add_argument("--confidence", type=float, default=0.95,
                        help="coverage of the interval (%(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws (%(default)s)")
    return parser


def common_sets(exps):
    """decode_<set> names that every run has, in the first run's order."""
    sets = None
    for exp in exps:
        found = [p.name for p in sorted(Path(exp).glob("decode_*")) if (p / "ref").is_file()]
        if not found:
            raise SpeechkitError(f"{exp}: no decode_*/ref; decode it first (steps/decode.sh)")
        sets = found if sets is None else [s for s in sets if s in found]
    return sets


def decisions(decode_dir, keys=None):
    """(utterance ids, correct booleans) of one decode dir; keys: the ids it must have."""
    ref, hyp = read_dict(decode_dir / "ref"), read_dict(decode_dir / "text")
    if keys is not None and sorted(ref) != keys:
        raise SpeechkitError(f"{decode_dir}/ref: other utterances than the first run's "
                             f"{decode_dir.name}; were they decoded on the same data dir?")
    keys = sorted(ref)
    missing = [k for k in keys if k not in hyp]
    if missing:
        raise SpeechkitError(f"{decode_dir}/text: no decision for {missing[0]}; decode it again")
    return keys, np.array([hyp[k] == ref[k] for k in keys])


def correct_matrix(exps, decode):
    """(runs, utterances) booleans for decode dir `decode` of each run, on the same utterances."""
    keys, rows = None, []
    for exp in exps:
        keys, correct = decisions(Path(exp) / decode, keys)
        rows.append(correct)
    return np.stack(rows)


def table(args, sets):
    a_name = system_name([Path(e).name for e in args.a])
    b_name = system_name([Path(e).name for e in args.b])
    pct = f"{100 * args.confidence:g}%"
    lines = [f"## {b_name} (B) against {a_name} (A): accuracy\n",
             f"Paired bootstrap over {len(args.a)} seed pairs and the test utterances, "
             f"{args.resamples} draws; B is better beyond that noise where the {pct} interval "
             f"of B - A excludes 0.\n",
             f"| set | A | B | B - A | B - A per seed | {pct} interval | P(B better) |",
             "|---|---|---|---|---|---|---|"]
    for decode in sets:
        both = correct_matrix(args.a + args.b, decode)
        a, b = both[:len(args.a)], both[len(args.a):]
        r = paired_bootstrap(a, b, args.resamples, args.confidence, args.seed)
        seeds = " ".join(f"{d:+.2f}" for d in r.per_seed)
        lines.append(f"| {decode[len('decode_'):]} | {100 * a.mean():.2f} | {100 * b.mean():.2f} "
                     f"| {r.diff:+.2f} | {seeds} | {r.low:+.2f} .. {r.high:+.2f} "
                     f"| {r.prob_better:.3f} |")
    return lines


@common.cli("speechkit compare-paired")
def main(argv=None):
    args = get_parser().parse_args(argv)
    if len(args.a) != len(args.b):
        raise SpeechkitError(f"--a has {len(args.a)} runs and --b {len(args.b)}; give one run of "
                             f"each system per seed, in the same seed order")
    if args.resamples < 1 or not 0 < args.confidence < 1:
        raise SpeechkitError("--resamples must be at least 1 and --confidence between 0 and 1")
    sets = common_sets(args.a + args.b)
    if not sets:
        raise SpeechkitError("the runs share no decode_<set>; decode them on the same sets")
    print("\n".join(table(args, sets)) + "\n")

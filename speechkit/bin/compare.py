"""Compare systems over several seeds: mean ± std of scores per test condition, as Markdown.

  speechkit compare --metric accuracy --metric frr_mean exp/train_logmel_seed{1,2,3} \\
      exp/train_pcen_seed{1,2,3} > RESULTS.md

Experiment dirs whose names differ only in a trailing `_seed<N>` form one system; each metric
gets a table with a row per system and a column per decode_<set> found in every run. The
numbers are read from decode_<set>/scores.json, so the table is never typed in.
"""
import json
import re
from pathlib import Path

import numpy as np

from speechkit.bin import common
from speechkit.errors import SpeechkitError

SEED = re.compile(r"_seed\d+$")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--metric", action="append", required=True,
                        help="a number in scores.json (repeat for several tables)")
    parser.add_argument("exps", nargs="+", help="experiment dirs")
    return parser


def collect(exps):
    """{system: {set: [scores dict per seed]}}, and the sets every run has."""
    systems, sets = {}, None
    for exp in map(Path, exps):
        found = {p.parent.name[len("decode_"):]: json.loads(p.read_text())
                 for p in sorted(exp.glob("decode_*/scores.json"))}
        if not found:
            raise SpeechkitError(f"{exp}: no decode_*/scores.json; score it first")
        sets = list(found) if sets is None else [s for s in sets if s in found]
        for name, scores in found.items():
            systems.setdefault(SEED.sub("", exp.name), {}).setdefault(name, []).append(scores)
    return systems, sets


def cell(values):
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"


@common.cli("speechkit compare")
def main(argv=None):
    args = get_parser().parse_args(argv)
    systems, sets = collect(args.exps)
    print("# Comparison\n")
    print(f"Mean ± standard deviation over runs (seeds); runs per system: "
          + ", ".join(f"{s} {len(v[sets[0]])}" for s, v in systems.items()) + ".\n")
    for metric in args.metric:
        print(f"## {metric}\n")
        print("| system | " + " | ".join(sets) + " |")
        print("|---" * (len(sets) + 1) + "|")
        for system, by_set in systems.items():
            try:
                row = [cell([s[metric] for s in by_set[name]]) for name in sets]
            except KeyError:
                raise SpeechkitError(f"{system}: no '{metric}' in its scores.json") from None
            print(f"| {system} | " + " | ".join(row) + " |")
        print()

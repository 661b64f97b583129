"""Compare systems over runs (seeds, or cross-validation folds): mean ± std per test condition.

  speechkit compare --metric accuracy --metric frr_mean exp/train_logmel_seed{1,2,3} \\
      exp/train_pcen_seed{1,2,3} > RESULTS.md
  speechkit compare --ignore data --metric ua exp/mts_fold{1,2,3,4}_seed1 ...   (folds)

Runs whose config.yaml are equal once the --ignore keys are left out (train.seed always; `data`
for folds, whose runs differ in their data dirs) form one system, named after what its runs'
dir names share (`train_logmel` for train_logmel_seed1..3, `mts` for mts_fold1_seed1..). Each
metric gets a table with a row per system and a column per decode_<set> found in every run. The
numbers are read from decode_<set>/scores.json, so the table is never typed in.
"""
import json
import os
import re
from pathlib import Path

import yaml

import numpy as np

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.train.config import read_saved



def system_key(exp, ignore):
    """The config of a run without its `ignore` keys (dotted), as a comparable string."""
    path = exp / "config.yaml"
    if not path.is_file():
        raise SpeechkitError(f"{exp}: no config.yaml; give experiment dirs of `speechkit train`")
    config = read_saved(path)
    for dotted in ("train.seed", *ignore):
        *parents, last = dotted.split(".")
        section = config
        for key in parents:
            section = section.get(key, {}) if isinstance(section, dict) else {}
        if isinstance(section, dict):
            section.pop(last, None)
    return yaml.safe_dump(config, sort_keys=True)


def system_name(names):
    """What the run names share, cut at a `_` (one run: its name without `_seed<N>`)."""
    if len(names) == 1:
        return re.sub(r"_seed\d+$", "", names[0])
    prefix = os.path.commonprefix(names)
    return prefix.rsplit("_", 1)[0] if "_" in prefix else prefix or names[0]


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--metric", action="append", required=True,
                        help="a number in scores.json (repeat for several tables)")
    parser.add_argument("--ignore", action="append", default=[], metavar="KEY",
                        help="config key (dotted) or section in which runs of one system may "
                             "differ, besides train.seed (e.g. data, for folds)")
    parser.add_argument("exps", nargs="+", help="experiment dirs")
    return parser


def collect(exps, ignore=()):
    """{system: {set: [scores dict per run]}}, and the sets every run has."""
    groups, sets = {}, None
    for exp in map(Path, exps):
        found = {p.parent.name[len("decode_"):]: json.loads(p.read_text())
                 for p in sorted(exp.glob("decode_*/scores.json"))}
        if not found:
            raise SpeechkitError(f"{exp}: no decode_*/scores.json; score it first")
        sets = list(found) if sets is None else [s for s in sets if s in found]
        groups.setdefault(system_key(exp, ignore), []).append((exp.name, found))
    systems = {}
    for runs in groups.values():
        by_set = systems.setdefault(system_name([name for name, _ in runs]), {})
        for _, found in runs:
            for decode, scores in found.items():
                by_set.setdefault(decode, []).append(scores)
    return systems, sets


def cell(values):
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"


@common.cli("speechkit compare")
def main(argv=None):
    args = get_parser().parse_args(argv)
    systems, sets = collect(args.exps, args.ignore)
    print("# Comparison\n")
    print(f"Mean ± standard deviation over runs; runs per system: "
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

"""Summarise an experiment's scored decodings (decode_*/scores.json) as a RESULTS.md table.

  speechkit results exp/train > exp/train/RESULTS.md

One row per decode dir, one column per number in its scores.json (rates in percent), plus
what produced them (config, checkpoint and decoding options), so the table is never typed in.
"""
import json
from pathlib import Path

from speechkit import cli as common
from speechkit.errors import SpeechkitError


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("exp", help="experiment dir with decode_*/scores.json")
    return parser


def _numbers(scores):
    return {k: v for k, v in scores.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _cell(value):
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def table(rows):
    columns = list(dict.fromkeys(k for _, nums in rows for k in nums))
    lines = ["| decode | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, nums in rows:
        lines.append(f"| {name} | " + " | ".join(_cell(nums[c]) if c in nums else "" for c in columns) + " |")
    return lines


@common.cli("speechkit results")
def main(argv=None):
    exp = Path(get_parser().parse_args(argv).exp)
    found = sorted(exp.glob("decode_*/scores.json"))
    if not found:
        raise SpeechkitError(f"{exp}: no decode_*/scores.json; run the scoring stage first")
    rows = [(p.parent.name, _numbers(json.loads(p.read_text()))) for p in found]
    print(f"# Results: {exp}\n")
    if (exp / "config.yaml").is_file():
        print(f"Config: `{exp}/config.yaml`.")
    confs = [(p.parent.name, (p.parent / "decode.conf").read_text().split("\n")) for p in found
             if (p.parent / "decode.conf").is_file()]
    if confs:
        print("Decoding: " + "; ".join(f"{n}: {', '.join(x for x in c if x)}" for n, c in confs) + ".")
    print("Rates are percentages.\n")
    print("\n".join(table(rows)))

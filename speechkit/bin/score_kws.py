"""Score keyword spotting: accuracy, and the false-reject rate at a fixed false-alarm rate.

  speechkit score-kws [--fa-rate 0.01] exp/pcen/decode_test_far_snr10

Reads <dir>/ref, <dir>/text and <dir>/posteriors.txt (from `speechkit classify`) and writes
<dir>/result.txt and <dir>/scores.json: accuracy over all labels, and per keyword (labels not
starting with `_`) the false-reject rate at which at most --fa-rate of the other utterances
score at or above the threshold on that keyword's posterior (speechkit/metrics/detection.py).
"""
from pathlib import Path

import numpy as np

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.io import read_dict, read_matrix_dict
from speechkit.metrics.detection import accuracy, frr_at_far
from speechkit.metrics.report import write_report


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--fa-rate", type=float, default=0.01,
                        help="false-alarm rate (share of non-keyword utterances) to report the "
                             "false-reject rate at (default %(default)s)")
    parser.add_argument("dir", help="decode dir with ref, text, posteriors.txt, labels.txt")
    return parser


def score(d, fa_rate):
    d = Path(d)
    ref, hyp = read_dict(d / "ref"), read_dict(d / "text")
    missing = [k for k in ref if k not in hyp]
    if missing:
        raise SpeechkitError(f"{d}/text: no decision for {len(missing)} utterances (e.g. {missing[0]})")
    labels = [ln.split()[0] for ln in (d / "labels.txt").read_text().splitlines()]
    post = read_matrix_dict(f"ark:{d}/posteriors.txt")
    keys = list(ref)
    scores = np.stack([post[k][0] for k in keys])
    truth = np.array([ref[k] for k in keys])
    result = {"accuracy": round(100 * accuracy(truth, [hyp[k] for k in keys]), 4),
              "utterances": len(keys)}
    frrs = {}
    for col, label in enumerate(labels):
        if label.startswith("_") or not (truth == label).any():
            continue
        frr, _ = frr_at_far(scores[truth == label, col], scores[truth != label, col], fa_rate)
        frrs[label] = round(100 * frr, 4)
    result["frr_mean"] = round(float(np.mean(list(frrs.values()))), 4) if frrs else float("nan")
    result.update(fa_rate=fa_rate, frr=frrs)
    return result


@common.cli("speechkit score-kws")
def main(argv=None):
    args = get_parser().parse_args(argv)
    result = score(args.dir, args.fa_rate)
    lines = [f"%ACC {result['accuracy']:.2f} [ {result['utterances']} utterances ]",
             f"%FRR {result['frr_mean']:.2f} at {100 * args.fa_rate:g}% false alarms (mean over "
             f"{len(result['frr'])} keywords)"]
    lines += [f"  {k} {v:.2f}" for k, v in result["frr"].items()]
    write_report(args.dir, lines, result)
    print("\n".join(lines))

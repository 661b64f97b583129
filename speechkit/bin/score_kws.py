"""Score keyword spotting: accuracy, and the false-reject rate at a fixed false-alarm rate.

  speechkit score-kws [--fa-rate 0.01] [--data-root data] exp/pcen/decode_test_far_snr10

Reads <dir>/ref, <dir>/text and <dir>/posteriors.txt (from `speechkit classify`) and writes
<dir>/result.txt and <dir>/scores.json: accuracy over all labels, and per keyword (labels not
starting with `_`) the false-reject rate at which at most --fa-rate of the other utterances
score at or above the threshold on that keyword's posterior (speechkit/metrics/detection.py).
scores.json also gets `det`: the false-reject rate averaged over keywords at 50 false-alarm
rates from 0.1% to 100% and at --fa-rate (percent; `speechkit plot-det` draws them).

Far field: with --data-root, decode_<set> is scored against <data-root>/<set> (the naming of
steps/decode.sh); when that data dir has utt2rt60, utt2distance, utt2drr or utt2c50 (the
test_far_snr* sets of the kws corpora do), scores.json gets the set's mean of each
(`rt60_mean` s, `distance_mean` m, `drr_mean` and `c50_mean` dB) and the accuracy per bin of
talker distance (`accuracy_by_distance`, bins --distance-bins) and of design RT60
(`accuracy_by_rt60`, --rt60-bins), each bin {"accuracy", "utterances"}, empty bins left out.
The default bins split the ranges the rooms are drawn from (speechkit.corpus.room: 1-5 m,
0.2-0.8 s) into 1 m and 0.2 s steps; the outer bins also take values beyond the edges. Data
dirs without these tables (near field, dev) are scored as without --data-root.
"""
import argparse
from pathlib import Path

import numpy as np

from speechkit import cli as common
from speechkit.errors import SpeechkitError, where
from speechkit.io import read_dict, read_matrix_dict
from speechkit.metrics.detection import DET_FA_RATES, accuracy, frr_at_far, frr_curve
from speechkit.metrics.report import write_report

# utt2<name> tables of far-field data dirs: their set means go into scores.json.
MEASURES = {"rt60": "s", "distance": "m", "drr": "dB", "c50": "dB"}
DISTANCE_BINS = (1.0, 2.0, 3.0, 4.0, 5.0)
RT60_BINS = (0.2, 0.4, 0.6, 0.8)


def bin_edges(text):
    """'1,2,3,5' -> (1.0, 2.0, 3.0, 5.0): at least two increasing numbers."""
    try:
        edges = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers")
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise argparse.ArgumentTypeError(f"'{text}': give at least two increasing bin edges")
    return edges


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--fa-rate", type=float, default=0.01,
                        help="false-alarm rate (share of non-keyword utterances) to report the "
                             "false-reject rate at (default %(default)s)")
    parser.add_argument("--data-root", help="where the data dirs are: decode_<set> reads "
                                            "<data-root>/<set>/utt2{rt60,distance,drr,c50}")
    parser.add_argument("--distance-bins", type=bin_edges, default=DISTANCE_BINS,
                        help="bin edges of talker distance in m (default 1,2,3,4,5)")
    parser.add_argument("--rt60-bins", type=bin_edges, default=RT60_BINS,
                        help="bin edges of design RT60 in s (default 0.2,0.4,0.6,0.8)")
    parser.add_argument("dir", help="decode dir with ref, text, posteriors.txt, labels.txt")
    return parser


def score(d, fa_rate, data_dir=None, bins=None):
    """scores.json's record; data_dir: the data dir decoded (for its far-field tables),
    bins: {"distance": edges, "rt60": edges}."""
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
    decided = [hyp[k] for k in keys]
    result = {"accuracy": round(100 * accuracy(truth, decided), 4),
              "utterances": len(keys)}
    frrs, curves = {}, []
    grid = sorted(set(DET_FA_RATES) | {fa_rate})
    for col, label in enumerate(labels):
        if label.startswith("_") or not (truth == label).any():
            continue
        positives, negatives = scores[truth == label, col], scores[truth != label, col]
        frr, _ = frr_at_far(positives, negatives, fa_rate)
        frrs[label] = round(100 * frr, 4)
        curves.append(frr_curve(positives, negatives, grid))
    result["frr_mean"] = round(float(np.mean(list(frrs.values()))), 4) if frrs else float("nan")
    result.update(fa_rate=fa_rate, frr=frrs)
    if curves:
        result["det"] = {"fa_rate": [round(100 * f, 4) for f in grid],
                         "frr_mean": [round(100 * float(f), 4) for f in np.mean(curves, axis=0)]}
    if data_dir is not None:
        correct = truth == np.array(decided)
        result.update(far_field_scores(Path(data_dir), keys, correct, bins or {}))
    return result


def read_measure(path, keys, decode_dir):
    """{utt: float} of a utt2<measure> table for every key of the decode dir."""
    table = read_dict(path)
    values = np.empty(len(keys))
    for i, key in enumerate(keys):
        if key not in table:
            raise SpeechkitError(f"{where(path, key=key)}: no value for this utterance of "
                                 f"{decode_dir}/ref; remake the data dir or decode it again")
        try:
            values[i] = float(table[key])
        except ValueError:
            raise SpeechkitError(f"{where(path, key=key)}: '{table[key]}' is not a number; "
                                 f"remake the data dir") from None
    return values


def far_field_scores(data_dir, keys, correct, bins):
    """Set means of the measures present in data_dir, and accuracy per bin of each of bins."""
    out = {}
    for name in MEASURES:
        path = data_dir / f"utt2{name}"
        if not path.is_file():
            continue
        values = read_measure(path, keys, data_dir)
        out[f"{name}_mean"] = round(float(np.mean(values)), 4)
        if name in bins:
            out[f"accuracy_by_{name}"] = accuracy_by_bin(values, correct, bins[name])
    return out


def bin_name(lo, hi):
    return f"{lo:g}-{hi:g}"


def accuracy_by_bin(values, correct, edges):
    """{"lo-hi": {"accuracy" %, "utterances"}} over the bins of edges (the outer two also take
    what lies beyond them); empty bins are left out."""
    index = np.digitize(values, edges[1:-1])
    out = {}
    for i, (lo, hi) in enumerate(zip(edges, edges[1:])):
        inside = index == i
        if inside.any():
            out[bin_name(lo, hi)] = {"accuracy": round(100 * float(np.mean(correct[inside])), 4),
                                     "utterances": int(inside.sum())}
    return out


def data_dir_of(decode_dir, data_root):
    """<data_root>/<set> for decode dir .../decode_<set> (steps/decode.sh's naming)."""
    name = Path(decode_dir).resolve().name
    if not name.startswith("decode_"):
        raise SpeechkitError(f"{decode_dir}: --data-root needs a decode dir named decode_<set>")
    data_dir = Path(data_root) / name[len("decode_"):]
    if not data_dir.is_dir():
        raise SpeechkitError(f"{data_dir}: no such data dir (decode dir {decode_dir}, "
                             f"--data-root {data_root})")
    return data_dir


def report_lines(result):
    lines = [f"%ACC {result['accuracy']:.2f} [ {result['utterances']} utterances ]",
             f"%FRR {result['frr_mean']:.2f} at {100 * result['fa_rate']:g}% false alarms (mean "
             f"over {len(result['frr'])} keywords)"]
    lines += [f"  {k} {v:.2f}" for k, v in result["frr"].items()]
    means = [f"{name} {result[f'{name}_mean']:.2f} {unit}" for name, unit in MEASURES.items()
             if f"{name}_mean" in result]
    if means:
        lines.append("Far field, set means: " + ", ".join(means))
    for name, unit in MEASURES.items():
        for b, s in result.get(f"accuracy_by_{name}", {}).items():
            lines.append(f"%ACC {s['accuracy']:.2f} at {name} {b} {unit} "
                         f"[ {s['utterances']} utterances ]")
    return lines


@common.cli("speechkit score-kws")
def main(argv=None):
    args = get_parser().parse_args(argv)
    data_dir = data_dir_of(args.dir, args.data_root) if args.data_root else None
    result = score(args.dir, args.fa_rate, data_dir,
                   {"distance": args.distance_bins, "rt60": args.rt60_bins})
    lines = report_lines(result)
    write_report(args.dir, lines, result)
    print("\n".join(lines))

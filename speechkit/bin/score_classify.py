"""Score a classification decode dir (emotions, any utterance labels): WA, UA, macro-F1.

  speechkit score-classify exp/mts_seed1/decode_test

Reads <dir>/ref and <dir>/text (`utt label`, as `speechkit classify` writes them) and writes
<dir>/result.txt, <dir>/scores.json (wa, ua, macro_f1 in percent, utterances, per-class recall)
and <dir>/confusion.txt (rows: reference class, columns: hypothesis, in the printed order).
"""
from pathlib import Path

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.io import atomic_write_text, read_dict
from speechkit.metrics.classification import class_scores
from speechkit.metrics.report import write_report


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("dir", help="decode dir with ref and text")
    return parser


@common.cli("speechkit score-classify")
def main(argv=None):
    d = Path(get_parser().parse_args(argv).dir)
    ref, hyp = read_dict(d / "ref"), read_dict(d / "text")
    missing = [k for k in ref if k not in hyp]
    if missing:
        raise SpeechkitError(f"{d}/text: no label for {len(missing)} utterances (e.g. {missing[0]})")
    keys = list(ref)
    scores, classes, mat = class_scores([ref[k] for k in keys], [hyp[k] for k in keys])
    recall = {c: round(100.0 * mat[i, i] / row, 2) for i, (c, row) in
              enumerate(zip(classes, mat.sum(axis=1))) if row}
    record = {k: round(v, 4) for k, v in scores.items()}
    record.update(utterances=len(keys), recall=recall)
    width = max(len(c) for c in classes)
    atomic_write_text(d / "confusion.txt", "".join(
        f"{c:<{width}} " + " ".join(f"{n:5d}" for n in row) + "\n" for c, row in zip(classes, mat)))
    lines = [f"%WA {scores['wa']:.2f} %UA {scores['ua']:.2f} %F1 {scores['macro_f1']:.2f} "
             f"[ {len(keys)} utterances, {len(classes)} classes ]"]
    write_report(d, lines, record)
    print("\n".join(lines))

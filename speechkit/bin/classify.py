"""Classify the utterances of data dirs with a trained model (keywords, emotions, ...).

  speechkit classify --model exp/pcen data/dev data/test_near     -> exp/pcen/decode_<set>/
  speechkit classify --model exp/pcen --out my_dir data/test_near

Writes <out>/text (`utt label`), <out>/posteriors.txt (Kaldi ark,t: a 1 x classes matrix per
utterance, columns in the order of <out>/labels.txt) and <out>/ref (the data dir's labels).
Several data dirs in one call load the model once.
"""
import shutil
import sys
from pathlib import Path

import numpy as np

from speechkit.bin import common
from speechkit.decode.classify import Classifier
from speechkit.errors import SpeechkitError
from speechkit.io import MatrixWriter, write_table
from speechkit.progress import progress
from speechkit.train.dataset import FeatureSet


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--model", required=True, help="experiment dir of the trained model")
    parser.add_argument("--checkpoint", default="ave.pt", help="checkpoint in the model dir")
    parser.add_argument("--batch-size", type=int, default=128, help="utterances per batch")
    parser.add_argument("--out", help="output dir (one data dir only; default "
                                       "<model>/decode_<data dir name>)")
    parser.add_argument("data", nargs="+", help="data dirs with feats.scp (raw features)")
    return parser


@common.cli("speechkit classify")
def main(argv=None):
    args = get_parser().parse_args(argv)
    if args.out and len(args.data) > 1:
        raise SpeechkitError("--out takes one data dir; leave it out to write <model>/decode_<set>")
    clf = Classifier(args.model, args.checkpoint)
    for data in map(Path, args.data):
        out = Path(args.out) if args.out else Path(args.model) / f"decode_{data.name}"
        classify(clf, data, out, args.batch_size)


def classify(clf, data, out, batch_size):
    feats = FeatureSet(data, clf.md.cmvn_path, preload=False)  # normalised as in training
    keys = feats.keys
    out.mkdir(parents=True, exist_ok=True)
    best = {}
    with MatrixWriter(f"ark,t:{out}/posteriors.txt") as writer:
        for start in progress(range(0, len(keys), batch_size), desc="classify", unit="batch"):
            chunk = keys[start:start + batch_size]
            post = clf.posteriors([feats[k] for k in chunk])
            for key, row in zip(chunk, post):
                writer.write(key, row[None, :])
                best[key] = clf.labels[int(np.argmax(row))]
    write_table(out / "text", best)
    shutil.copy(clf.md.path / "tokens.txt", out / "labels.txt")
    label_table = clf.md.config["data"].get("label_table", clf.md.task.label_table)
    if (data / label_table).is_file():
        shutil.copy(data / label_table, out / "ref")
    print(f"classify: {len(best)} utterances of {data} into {out}", file=sys.stderr)

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

from speechkit import cli as common
from speechkit.infer.classify import Classifier
from speechkit.errors import SpeechkitError
from speechkit.infer.datadir import decode_data_dir
from speechkit.infer.writers import open_writer
from speechkit.io import MatrixWriter


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
    post = decode_data_dir(clf, data, max_batch=batch_size)
    with MatrixWriter(f"ark,t:{out}/posteriors.txt") as writer:
        for key, row in post.items():
            writer.write(key, row[None, :])
    with open_writer(clf.output, out / "text") as writer:
        for key, row in post.items():
            writer.write(key, clf.best(row))
    shutil.copy(clf.md.config["data"]["tokens"], out / "labels.txt")
    if (data / clf.md.task.label_table).is_file():
        shutil.copy(data / clf.md.task.label_table, out / "ref")
    print(f"classify: {len(post)} utterances of {data} into {out}", file=sys.stderr)

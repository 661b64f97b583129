"""Decode the features of a data dir with a trained CTC model into a Kaldi `text` of hypotheses.

  speechkit asr-decode --model exp/train --beam 10 data/test exp/train/decode_test

Writes <out>/text (hypotheses), <out>/ref (the data dir's text, when it has one) and
<out>/decode.conf (checkpoint and beam). --beam 1 is greedy (best path) search.
"""
import shutil
import sys
from pathlib import Path

from speechkit.bin import common
from speechkit.decode.asr import Speech2Text
from speechkit.io import write_table
from speechkit.progress import progress
from speechkit.train.batching import make_batches
from speechkit.train.dataset import FeatureSet


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--model", required=True, help="experiment dir of the trained model")
    parser.add_argument("--checkpoint", default="ave.pt", help="checkpoint in the model dir")
    parser.add_argument("--beam", type=int, default=10, help="prefix beam size (1: greedy)")
    parser.add_argument("--batch-frames", type=int, default=40000, help="frames per batch")
    parser.add_argument("data", help="data dir with feats.scp (raw features; CMVN is applied)")
    parser.add_argument("out", help="output dir")
    return parser


@common.cli("speechkit asr-decode")
def main(argv=None):
    args = get_parser().parse_args(argv)
    data, out = Path(args.data), Path(args.out)
    s2t = Speech2Text(args.model, args.checkpoint, args.beam)
    feats = FeatureSet(data, s2t.md.cmvn_path, preload=False)  # normalised as in training
    hyps = {}
    for keys in progress(make_batches(feats.lengths, args.batch_frames, 256), desc="decode", unit="batch"):
        hyps.update(zip(keys, s2t.decode_feats([feats[k] for k in keys])))
    out.mkdir(parents=True, exist_ok=True)
    write_table(out / "text", hyps)
    if (data / "text").is_file():
        shutil.copy(data / "text", out / "ref")
    (out / "decode.conf").write_text(f"model {args.model}\ncheckpoint {args.checkpoint}\nbeam {args.beam}\n")
    print(f"asr-decode: {len(hyps)} utterances of {data} decoded into {out}/text", file=sys.stderr)

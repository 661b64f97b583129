"""Decode the features of a data dir with a trained CTC model into a Kaldi `text` of hypotheses.

  speechkit asr-decode --model exp/train --beam 10 data/test exp/train/decode_test
  speechkit asr-decode --model exp/train --beam 10 --out exp/train/decode_test data/test

Writes <out>/text (hypotheses), <out>/ref (the data dir's text, when it has one) and
<out>/decode.conf (checkpoint and beam). --beam 1 is greedy (best path) search.
"""
import shutil
import sys
from pathlib import Path

from speechkit import cli as common
from speechkit.infer.asr import Speech2Text
from speechkit.infer.datadir import decode_data_dir
from speechkit.infer.writers import open_writer


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--model", required=True, help="experiment dir of the trained model")
    parser.add_argument("--checkpoint", default="ave.pt", help="checkpoint in the model dir")
    parser.add_argument("--beam", type=int, default=10, help="prefix beam size (1: greedy)")
    parser.add_argument("--batch-frames", type=int, default=40000, help="frames per batch")
    parser.add_argument("data", help="data dir with feats.scp (raw features; CMVN is applied)")
    parser.add_argument("out", nargs="?", help="output dir (or --out; default <model>/decode_<set>)")
    parser.add_argument("--out", dest="out_opt", help="output dir")
    return parser


@common.cli("speechkit asr-decode")
def main(argv=None):
    args = get_parser().parse_args(argv)
    data = Path(args.data)
    out = Path(args.out_opt or args.out or Path(args.model) / f"decode_{data.name}")
    s2t = Speech2Text(args.model, args.checkpoint, beam=args.beam, task="asr")
    hyps = decode_data_dir(s2t, data, args.batch_frames)
    with open_writer(s2t.output, out / "text") as writer:
        for key, hyp in hyps.items():
            writer.write(key, hyp)
    if (data / "text").is_file():
        shutil.copy(data / "text", out / "ref")
    (out / "decode.conf").write_text(f"model {args.model}\ncheckpoint {args.checkpoint}\nbeam {args.beam}\n")
    print(f"asr-decode: {len(hyps)} utterances of {data} decoded into {out}/text", file=sys.stderr)

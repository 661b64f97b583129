"""Write Kaldi data dirs (train/dev/test) from a corpus: the embedded one or a downloaded one.

  speechkit prepare-corpus embedded corpus/ data/     after `speechkit synth-corpus corpus/`
"""
import sys

from speechkit.bin import common
from speechkit.corpus import PREPARERS, get_preparer


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("corpus", help=f"corpus name, one of: {', '.join(sorted(PREPARERS))}")
    parser.add_argument("src", help="the corpus as generated or downloaded and unpacked")
    parser.add_argument("data_root", help="where to write the data dirs (e.g. data/)")
    return parser


@common.cli("speechkit prepare-corpus")
def main(argv=None):
    args = get_parser().parse_args(argv)
    counts = get_preparer(args.corpus)(args.src, args.data_root)
    for split, n in counts.items():
        print(f"prepare-corpus: {n} utterances in {args.data_root}/{split}", file=sys.stderr)

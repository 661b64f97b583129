"""Print the number of frames of each feature matrix (Kaldi's feat-to-len).

  speechkit feat-to-len scp:data/train/feats.scp ark,t:data/train/utt2num_frames
  speechkit feat-to-len scp:data/train/feats.scp             prints the total over all matrices
"""
from speechkit import cli as common
from speechkit.features.tables import write_scalar_table
from speechkit.io import read_matrices


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("feats_rspecifier", help="input: scp:feats.scp, ark:x.ark or ark:-")
    parser.add_argument("out", nargs="?",
                        help="`<key> <frames>` table: FILE, ark,t:FILE or ark,t:- for stdout; "
                             "without it, the total number of frames is printed")
    return parser


@common.cli("speechkit feat-to-len")
def main(argv=None):
    args = get_parser().parse_args(argv)
    lengths = [(key, len(mat)) for key, mat in read_matrices(args.feats_rspecifier)]
    if args.out:
        write_scalar_table(args.out, lengths)
    else:
        print(sum(n for _, n in lengths))

"""Print the dimension of feature matrices (Kaldi's feat-to-dim).

  speechkit feat-to-dim scp:data/train/feats.scp             prints the dimension of the first
  speechkit feat-to-dim scp:data/train/feats.scp ark,t:-     `<key> <dim>` for every matrix
"""
from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.features.tables import write_scalar_table
from speechkit.io import read_matrices


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("feats_rspecifier", help="input: scp:feats.scp, ark:x.ark or ark:-")
    parser.add_argument("out", nargs="?", default="-",
                        help="`-` (default): the first matrix's dimension; FILE, ark,t:FILE "
                             "or ark,t:-: a `<key> <dim>` table of every matrix")
    return parser


@common.cli("speechkit feat-to-dim")
def main(argv=None):
    args = get_parser().parse_args(argv)
    matrices = read_matrices(args.feats_rspecifier)
    if args.out != "-":
        write_scalar_table(args.out, [(key, mat.shape[1]) for key, mat in matrices])
        return
    first = next(matrices, None)
    if first is None:
        raise SpeechkitError(f"{args.feats_rspecifier}: no matrices")
    print(first[1].shape[1])

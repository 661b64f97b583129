"""Copy feature matrices from an rspecifier to a wspecifier (Kaldi's copy-feats).

  speechkit copy-feats scp:data/train/feats.scp ark,t:-        print as text
  speechkit compute-feats scp:wav.scp ark:- | speechkit copy-feats ark:- ark,scp:x.ark,x.scp

Matrices are written as float32; the output is committed only if every matrix was read. Reading
`ark:-`, a stream that ends with the abort record of a failed speechkit producer (or breaks off
inside a matrix) is an error, so nothing is committed after a failure upstream in the pipe.
"""
from speechkit import cli as common
from speechkit.features.tables import write_scalar_table
from speechkit.io import MatrixWriter, read_matrices


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--write-num-frames", metavar="FILE",
                        help="also write `<key> <frames>` lines to FILE (or ark,t:FILE)")
    parser.add_argument("feats_rspecifier", help="input: scp:feats.scp, ark:x.ark or ark:-")
    parser.add_argument("feats_wspecifier", help="output: ark,scp:x.ark,x.scp, ark:x.ark, ark:- or ark,t:-")
    return parser


@common.cli("speechkit copy-feats")
def main(argv=None):
    args = get_parser().parse_args(argv)
    frames = {}
    with MatrixWriter(args.feats_wspecifier) as writer:
        for key, mat in read_matrices(args.feats_rspecifier):
            writer.write(key, mat)
            frames[key] = len(mat)
    if args.write_num_frames:
        write_scalar_table(args.write_num_frames, frames.items())

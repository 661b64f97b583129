"""Scale the volume of audio by a factor (sox's `--vol`), for wav.scp pipes.

  speechkit wav-volume --scale 0.5 in.wav - |
  some-command | speechkit wav-volume --scale 1.7 - - |

utils/data/perturb_data_dir_volume.sh writes these pipes into wav.scp where Kaldi's writes
`sox --vol S ... |`. Samples beyond full scale are clipped, as sox clips them; the output is
16-bit PCM wav.
"""
from speechkit import cli as common
from speechkit.bin.resample import read_audio, write_audio
from speechkit.data.perturb import parse_positive


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("input", help="audio file readable by libsndfile, or - for stdin")
    parser.add_argument("output", help="output wav file, or - for stdout")
    parser.add_argument("--scale", required=True, help="amplitude factor > 0 (2 is +6 dB)")
    return parser


def transform(samples, rate, args):
    """(samples, rate) of the output (main() writes it; speechkit.io.inprocess runs it in-process)."""
    return samples * parse_positive(args.scale, "--scale"), rate


@common.cli("speechkit wav-volume")
def main(argv=None):
    args = get_parser().parse_args(argv)
    samples, rate = read_audio(args.input)
    write_audio(args.output, *transform(samples, rate, args))

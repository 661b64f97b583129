"""Change the speed of audio, tempo and pitch together (sox's `speed`), for wav.scp pipes.

  speechkit wav-speed --factor 0.9 in.wav out.wav       1/0.9 times as long, pitch 0.9 times
  speechkit wav-speed --factor 1.1 in.wav - |           wav on stdout
  some-command | speechkit wav-speed --factor 1.1 - - |  audio from an upstream pipe

utils/data/perturb_data_dir_speed.sh writes these pipes into wav.scp where Kaldi's writes
`sox ... speed F |`. The audio is resampled from rate*F to rate with soxr (as `speechkit
resample`), so it keeps its rate and holds 1/F as many samples; channels are kept; the output is
16-bit PCM wav.
"""
from speechkit import cli as common
from speechkit.bin.resample import read_audio, write_audio
from speechkit.data.perturb import parse_positive
from speechkit.io.audio import change_speed


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("input", help="audio file readable by libsndfile, or - for stdin")
    parser.add_argument("output", help="output wav file, or - for stdout")
    parser.add_argument("--factor", required=True,
                        help="speed factor > 0: 1.1 is faster and higher, 0.9 slower and lower")
    return parser


def transform(samples, rate, args):
    """(samples, rate) of the output, from the input's and the parsed options: what main()
    writes, and what speechkit.io.inprocess runs for a wav.scp pipe without a new process."""
    factor = parse_positive(args.factor, "--factor")
    return change_speed(samples, rate, factor), rate


@common.cli("speechkit wav-speed")
def main(argv=None):
    args = get_parser().parse_args(argv)
    samples, rate = read_audio(args.input)
    write_audio(args.output, *transform(samples, rate, args))

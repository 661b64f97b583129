"""Change the voice of audio (vocal tract, pitch, timbre, telephone band), for wav.scp pipes.

  speechkit wav-voice --warp 1.1 --f0-shift 3 in.wav - |          shorter tract, higher pitch
  speechkit wav-voice --tilt -3 --eq-seed 7 --eq-db 6 in.wav - |  darker, randomly coloured
  cmd | speechkit wav-voice --band telephone - - |                 300-3400 Hz only, no WORLD

--warp, --f0-shift, --tilt and --eq-seed go through WORLD analysis and resynthesis
(speechkit.data.voice); `--warp 1` alone is the plain resynthesis. The resynthesized audio gets
the input's RMS (loudness is not an effect) and its exact number of samples: WORLD's last
partial frame is cut, or the end padded with zeros. --band telephone band-passes the result
(zero-phase Butterworth, 300-3400 Hz); alone, it is the only change made. Samples beyond full
scale are clipped, as in wav-volume. Output: 16-bit PCM wav at the input's rate. Mono audio
only. utils/data/perturb_data_dir_voice.sh writes these pipes, one voice per speaker.
"""
import math

from speechkit import cli as common
from speechkit.bin.resample import read_audio, write_audio
from speechkit.data.perturb import parse_positive
from speechkit.data.voice import change_voice
from speechkit.errors import SpeechkitError


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("input", help="audio file readable by libsndfile, or - for stdin")
    parser.add_argument("output", help="output wav file, or - for stdout")
    parser.add_argument("--warp", metavar="A",
                        help="vocal-tract-length factor > 0: formants times A (0.85-1.15)")
    parser.add_argument("--f0-shift", metavar="SEMITONES", help="F0 shift in semitones")
    parser.add_argument("--tilt", metavar="DB_PER_OCTAVE",
                        help="spectral tilt in dB per octave around 1 kHz (negative: darker)")
    parser.add_argument("--band", choices=("telephone", "none"), default="none",
                        help="band-limit the output to 300-3400 Hz (none)")
    parser.add_argument("--eq-seed", type=int, metavar="N", help="draws a random equaliser")
    parser.add_argument("--eq-db", metavar="D", help="its largest gain in dB (6)")
    return parser


def _finite(text, option):
    """A finite number or None; else one line."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise SpeechkitError(f"{option} '{text}': must be a finite number, e.g. {option} -2")
    return value


def _effects(args):
    """change_voice's keywords from the options, each checked."""
    if args.eq_db is not None and args.eq_seed is None:
        raise SpeechkitError("--eq-db needs --eq-seed (the seed draws the equaliser)")
    eq_db = _finite(args.eq_db, "--eq-db")
    if eq_db is not None and eq_db < 0:
        raise SpeechkitError(f"--eq-db '{args.eq_db}': must be >= 0 dB")
    return {"warp": None if args.warp is None else parse_positive(args.warp, "--warp"),
            "f0_shift": _finite(args.f0_shift, "--f0-shift"), "tilt": _finite(args.tilt, "--tilt"),
            "eq_seed": args.eq_seed, "eq_db": 6.0 if eq_db is None else eq_db, "band": args.band}


def transform(samples, rate, args):
    """(samples, rate) of the output: what main() writes, and what speechkit.io.inprocess runs
    in-process for a wav.scp pipe."""
    effects = _effects(args)
    if samples.shape[1] != 1:
        raise SpeechkitError(f"{args.input}: {samples.shape[1]} channels; wav-voice takes "
                             f"mono audio")
    return change_voice(samples[:, 0], rate, **effects), rate


@common.cli("speechkit wav-voice")
def main(argv=None):
    args = get_parser().parse_args(argv)
    _effects(args)  # bad options before reading any audio
    samples, rate = read_audio(args.input)
    write_audio(args.output, *transform(samples, rate, args))

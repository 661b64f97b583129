"""Resample an audio file (wav, flac, ...) to another rate and write it as 16-bit PCM wav.

  speechkit resample --rate 16000 in.wav out.wav
  speechkit resample --rate 16000 in.flac - | ...      wav on stdout, for wav.scp pipes

Use it in wav.scp where Kaldi recipes would use sox, so that no sox install is needed:

  utt1 speechkit resample --rate 16000 /corpus/utt1.wav - |

INPUT may be `-` (audio on stdin). Channels are kept; the resampler is soxr (high quality).
Audio already at --rate is copied unchanged (re-encoded as 16-bit PCM wav).
"""
import io
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.io.atomic import atomic_write_bytes, write_error
from speechkit.io.audio import decode_audio, resample


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("input", help="audio file readable by libsndfile, or - for stdin")
    parser.add_argument("output", help="output wav file, or - for stdout")
    parser.add_argument("--rate", type=int, required=True, help="output sample rate in Hz")
    return parser


def read_audio(spec):
    """(float32 samples of shape (frames, channels), rate) from a path or '-' (stdin)."""
    if spec == "-":
        return decode_audio(sys.stdin.buffer.read(), "stdin")
    if not Path(spec).is_file():
        raise SpeechkitError(f"{spec}: no such audio file")
    return decode_audio(spec, spec)


def wav_bytes(samples, rate):
    """16-bit PCM wav file contents (samples clipped to [-1, 1])."""
    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def write_audio(output, samples, rate):
    """Write 16-bit PCM wav to `output`: a file (atomically) or stdout ('-')."""
    data = wav_bytes(samples, rate)
    if output == "-":
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise write_error("stdout", e) from None
    else:
        atomic_write_bytes(output, data)


@common.cli("speechkit resample")
def main(argv=None):
    args = get_parser().parse_args(argv)
    if args.rate <= 0:
        raise SpeechkitError(f"--rate {args.rate}: must be a positive number of Hz")
    samples, rate = read_audio(args.input)
    write_audio(args.output, resample(samples, rate, args.rate), args.rate)

"""Play audio across a simulated room, with background noise: far-field speech for wav.scp pipes.

  speechkit wav-farfield --seed 7 in.wav - |                          reverberation only
  speechkit wav-farfield --seed 7 --snr 10 --noise pink in.wav - |    and pink noise at 10 dB
  cmd | speechkit wav-farfield --seed 7 --snr 5 --noise-file musan/noise/x.wav - - |

The room (a random shoebox, RT60 0.2-0.8 s, talker 1-5 m from the microphone) and the noise
kinds are the kws recipe's far-field simulation (speechkit.corpus.room), drawn from --seed: the
same seed gives the same output. A noise file is resampled to the audio's rate and a random
stretch of it (repeated when shorter) is added, as the enhance corpus does with --noise-dir. The
SNR is over the whole clip; the length does not change. Mono audio only.
"""
from pathlib import Path

import numpy as np
import soundfile as sf

from speechkit import cli as common
from speechkit.bin.resample import read_audio, write_audio
from speechkit.corpus import room
from speechkit.corpus.enhance import NoiseFile, file_noise
from speechkit.errors import SpeechkitError


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("input", help="audio file readable by libsndfile, or - for stdin")
    parser.add_argument("output", help="output wav file, or - for stdout")
    parser.add_argument("--seed", type=int, required=True, help="draws the room and the noise")
    parser.add_argument("--snr", type=float, help="SNR in dB of the added noise (none: no noise)")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--noise", choices=room.SPEECHLESS_KINDS, help="a synthetic noise kind")
    noise.add_argument("--noise-file", metavar="FILE", help="a noise recording (e.g. MUSAN)")
    return parser


def _noise_file(path):
    try:
        info = sf.info(path)
    except (RuntimeError, OSError) as e:
        raise SpeechkitError(f"--noise-file {path}: cannot read it ({e})") from None
    if info.frames == 0:
        raise SpeechkitError(f"--noise-file {path}: holds no samples; use another file")
    return NoiseFile(Path(path), path, "", info.frames, info.samplerate)


def simulate(wav, rate, seed, snr=None, noise=None, noise_file=None):
    """wav heard across the room drawn from seed, plus noise (a kind or a file) at snr dB."""
    rng = np.random.default_rng(seed)
    if noise_file is None:
        return room.farfield(wav, rate, rng, snr, noise_kind=noise)[0]
    reverberant, _ = room.farfield(wav, rate, rng, None)
    noise, _ = file_noise(_noise_file(noise_file), len(reverberant), rng, rate)
    return room.add_noise(reverberant, noise, snr)[0]


def transform(samples, rate, args):
    """(samples, rate) of the output (main() writes it; speechkit.io.inprocess runs it in-process).

    Everything random is drawn from args.seed here, so both give the same samples."""
    if (args.snr is None) != (args.noise is None and args.noise_file is None):
        raise SpeechkitError("--snr and --noise/--noise-file go together: give both for noise, "
                             "neither for reverberation only")
    if samples.shape[1] != 1:
        raise SpeechkitError(f"{args.input}: {samples.shape[1]} channels; wav-farfield takes "
                             f"mono audio")
    return simulate(samples[:, 0], rate, args.seed, args.snr, args.noise, args.noise_file), rate


@common.cli("speechkit wav-farfield")
def main(argv=None):
    args = get_parser().parse_args(argv)
    samples, rate = read_audio(args.input)
    write_audio(args.output, *transform(samples, rate, args))

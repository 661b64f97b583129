"""Run a trained model on your own audio: no data dir, no transcripts needed.

  speechkit infer asr --model exp/train a.wav b.wav
  speechkit infer asr --model exp/train --wav-scp my_wav.scp > hyp.txt

Prints `<utt> <result>` per input (utt: the file name without extension, or the wav.scp key),
a Kaldi text table. The model dir carries its feature config, CMVN stats and token list.
"""
import importlib
from pathlib import Path

from speechkit.bin import common
from speechkit.decode.registry import INFERENCE
from speechkit.errors import SpeechkitError
from speechkit.io import AudioTable, load_audio

# Modules that register inference front-ends; a new task adds its module here.
_FRONTENDS = ("speechkit.decode.asr", "speechkit.decode.classify")


def get_parser():
    for name in _FRONTENDS:
        importlib.import_module(name)
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("task", choices=sorted(INFERENCE), help="the model's task")
    parser.add_argument("--model", required=True, help="experiment dir of the trained model")
    parser.add_argument("--checkpoint", default="ave.pt", help="checkpoint in the model dir")
    parser.add_argument("--wav-scp", help="read the audio from this wav.scp instead of files")
    parser.add_argument("--beam", type=int, default=None, help="search beam (tasks with a search)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("wavs", nargs="*", help="audio files")
    return parser


def inputs(args, rate):
    if args.wav_scp:
        yield from ((k, w) for k, w, _ in AudioTable(args.wav_scp, sample_rate=rate).items())
    for path in args.wavs:
        wav, _ = load_audio(path, path, sample_rate=rate)
        yield Path(path).stem, wav


@common.cli("speechkit infer")
def main(argv=None):
    args = get_parser().parse_intermixed_args(argv)
    if not args.wavs and not args.wav_scp:
        raise SpeechkitError("give audio files or --wav-scp")
    options = {"beam": args.beam} if args.beam is not None else {}
    frontend = INFERENCE.get(args.task)(args.model, checkpoint=args.checkpoint,
                                        device=args.device, **options)
    rate = int(frontend.md.feat_options["sample_frequency"])
    for key, wav in inputs(args, rate):
        print(key, frontend(wav, rate), flush=True)

"""Run a trained model on your own audio: no data dir, no transcripts needed.

  speechkit infer asr --model exp/train a.wav b.wav
  speechkit infer asr --model exp/train --wav-scp my_wav.scp > hyp.txt
  speechkit infer enhance --model exp/phasen noisy.wav -o enhanced/     (wav outputs)
  speechkit infer speaker --model exp/x --compare enrol.wav test1.wav test2.wav

Text results print as `<utt> <result>` lines, a Kaldi text table (to stdout, or -o FILE); wav
results go to -o DIR (DIR/<utt>.wav plus DIR/wav.scp); matrix results (embeddings) to -o
WSPECIFIER (default ark,t:-). utt is the file name without extension, or the wav.scp key. The
model dir carries its feature config, normalisation stats and label lists.

--compare (tasks whose results compare, e.g. speaker embeddings): the first input against each
of the others, one `<utt1> <utt2> <comparison>` line each on stdout (for speaker: the score and
same/different at the threshold stored in the model dir); results are then written only with
-o. Task options (--beam, --layer, --target-speaker, --gv) go to the tasks that take them; to
others they are an error.
"""
import inspect
from pathlib import Path

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.infer import INFERENCE
from speechkit.infer.writers import open_writer
from speechkit.io import AudioTable, load_audio

# Options passed on to the front-ends that take them (argument names of their constructors).
_TASK_OPTIONS = ("beam", "layer", "target_speaker", "gv")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("task", choices=sorted(INFERENCE), help="the model's task")
    parser.add_argument("--model", required=True, help="experiment dir of the trained model")
    parser.add_argument("--checkpoint", default="ave.pt", help="checkpoint in the model dir")
    parser.add_argument("--wav-scp", help="read the audio from this wav.scp instead of files")
    parser.add_argument("-o", "--out", help="where results go (see above); default stdout")
    parser.add_argument("--beam", type=int, default=None, help="search beam (tasks with a search)")
    parser.add_argument("--layer", default=None,
                        help="embedding layer (tasks with embeddings; e.g. hidden, softmax)")
    parser.add_argument("--target-speaker", default=None,
                        help="convert to this training speaker (mcep, speaker-conditioned VAE)")
    parser.add_argument("--gv", action="store_true", default=None,
                        help="apply the global-variance post-filter (mcep)")
    parser.add_argument("--compare", action="store_true",
                        help="compare the first input with each other one (see above)")
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
    cls = INFERENCE.get(args.task)
    if args.compare and not hasattr(cls, "compare"):
        raise SpeechkitError(f"--compare: {args.task} results are not compared in pairs")
    frontend = cls(args.model, checkpoint=args.checkpoint, device=args.device, task=args.task,
                   **task_options(cls, args))
    rate = frontend.md.sample_rate
    results = []
    with open_writer(frontend.output, args.out, rate) if args.out or not args.compare \
            else _NoWriter() as writer:
        for key, wav in inputs(args, rate):
            try:
                result = frontend(wav, rate)
            except SpeechkitError as e:
                raise SpeechkitError(f"{key}: {e}") from None
            writer.write(key, frontend.format(result))
            if args.compare:
                results.append((key, result))
    if args.compare:
        compare(frontend, results)


def task_options(cls, args):
    """The task options given on the command line, each checked against the front-end's."""
    given = {name: getattr(args, name) for name in _TASK_OPTIONS if getattr(args, name) is not None}
    takes = inspect.signature(cls).parameters
    for name in given:
        if name not in takes:
            raise SpeechkitError(f"--{name} does not apply to task {args.task}")
    return given


def compare(frontend, results):
    if len(results) < 2:
        raise SpeechkitError("--compare needs two or more inputs (the first is compared with "
                             "each of the others)")
    first, reference = results[0]
    for key, result in results[1:]:
        print(f"{first} {key} {frontend.compare(reference, result)}", flush=True)


class _NoWriter:
    """--compare without -o: the results themselves are not written."""

    def write(self, key, result):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False

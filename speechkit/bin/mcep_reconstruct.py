"""Reconstruct (or convert) the mel-cepstra of a data dir with an mcep model, and resynthesise.

  speechkit mcep-reconstruct --model exp/train_vae_seed1 --out exp/train_vae_seed1/decode_test data/test
  speechkit mcep-reconstruct --model exp/train_cvae_seed1 --convert-pairs data/test_vc DIR
  speechkit mcep-reconstruct --model exp/train_cvae_seed1 --target-speaker s003 data/test DIR
  speechkit mcep-reconstruct --baseline pca --latent 16 --train-data data/train \\
      --model exp/pca16 data/test exp/pca16/decode_test

Reads the data dir's feats.scp (mel-cepstra c0..c{order}), lf0.scp, bap.scp and utt2spk, runs
what `speechkit infer mcep` runs (speechkit.infer.mcep) and writes to the output dir:

  mcep.{ark,scp}      reconstructed (converted) mel-cepstra, original c0, raw scale
  mcep_gv.{ark,scp}   the same after the GV post-filter
  wav/, wav_gv/       WORLD resynthesis of both (<key>.wav and a wav.scp each; not with --no-wav)
  ref.scp             the reference mel-cepstrum of each key (the input itself, or the target
                      speaker's own rendering of the sentence when converting pairs)
  feats.yaml          the WORLD/mcep options (for re-analysing the wavs when scoring)
  decode.conf         model, checkpoint, data, mode (reconstruction or conversion)
  latents.json        for VAEs: KL per latent dimension over the set, and the active ones

--convert-pairs reads <data>/pairs (`<source utt> <target utt>` lines, the same sentence read by
two training speakers): every source is converted to the target's speaker, key
`<source>_to_<target>`. --baseline fits a closed-form system into --model first (unless that
dir holds the same baseline of the same data already): `copy` (analysis-synthesis: the floor),
`mean` (the training mean frame) or `pca` (--latent principal components of the training
frames); it then decodes like a trained model (and `speechkit infer mcep` takes it too).
"""
import contextlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from speechkit import cli as common
from speechkit.errors import SpeechkitError, where
from speechkit.features.config import FEATS_FILE
from speechkit.infer.mcep import Analysis, McepResynthesis
from speechkit.infer.writers import open_writer
from speechkit.io import MatrixWriter, load_scp, read_dict, read_table
from speechkit.io.atomic import atomic_write_text
from speechkit.nn.mcep_vae import ACTIVE_KL_NATS
from speechkit.progress import progress
from speechkit.tasks import get_task
from speechkit.tasks.mcep import BASELINES
from speechkit.train import checkpoint as ckpt
from speechkit.train.config import read_saved, save_config

TRAIN_FILES = {"features": FEATS_FILE, "cmvn": "cmvn_global.ark", "gv": "gv.ark",
               "spk2lf0": "spk2lf0"}


def get_parser():
    p = common.make_parser(__name__, __doc__)
    p.add_argument("--model", required=True, help="experiment dir of the model (or of the "
                                                   "baseline to fit, with --baseline)")
    p.add_argument("--checkpoint", default="ave.pt", help="checkpoint in the model dir")
    p.add_argument("--target-speaker", help="convert every utterance to this training speaker")
    p.add_argument("--convert-pairs", action="store_true",
                   help="convert each source of <data>/pairs to its target's speaker")
    p.add_argument("--no-wav", action="store_true", help="mel-cepstra only, no resynthesis")
    p.add_argument("--baseline", choices=BASELINES,
                   help="fit this baseline into --model first (unless it holds it already)")
    p.add_argument("--latent", type=int, default=16, help="PCA components (default %(default)s)")
    p.add_argument("--train-data", help="training data dir of the baseline (feats.scp, feats.yaml,"
                                        " cmvn_global.ark, gv.ark, spk2lf0)")
    p.add_argument("data", help="data dir with feats.scp, lf0.scp, bap.scp (local/make_mcep.sh)")
    p.add_argument("out", nargs="?", help="output dir (or --out; default <model>/decode_<set>)")
    p.add_argument("--out", dest="out_opt", help="output dir")
    return p


def fit_baseline(name, latent, train_data, model_dir):
    """Write model_dir as a model dir of the baseline, fitted on train_data, unless it holds
    that very baseline already."""
    if not train_data:
        raise SpeechkitError("--baseline needs --train-data (the frames it is fitted on)")
    train = Path(train_data)
    data = {"train": str(train), "dev": None}
    for key, file in TRAIN_FILES.items():
        if not (train / file).is_file():
            raise SpeechkitError(f"{train}/{file}: missing; run the feature and statistics "
                                 f"stages first")
        data[key] = str(train / file)
    config = {"task": "mcep_baseline", "data": data,
              "model": {"name": name, "latent": latent if name == "pca" else 0}}
    if (model_dir / "config.yaml").is_file() and read_saved(model_dir / "config.yaml") == config:
        return
    task_cls = get_task("mcep_baseline")
    task = task_cls(config, model_dir)
    model = task.fit(task.build_model(task.input_dim()))
    model_dir.mkdir(parents=True, exist_ok=True)
    for key, file in task_cls.assets.items():
        shutil.copy(data[key], model_dir / file)
    ckpt.save(model.state_dict(), model_dir / "ave.pt")
    save_config(config, model_dir / "config.yaml")  # last: its presence means a complete dir
    print(f"mcep-reconstruct: fitted the {name} baseline on {train} into {model_dir}",
          file=sys.stderr)


def jobs(data, pairs, target, utt2spk):
    """[(output key, source utt, target speaker or None, reference utt)]."""
    if pairs:
        path = data / "pairs"
        if not path.is_file():
            raise SpeechkitError(f"{path}: no pairs file; --convert-pairs needs the `<source "
                                 f"utt> <target utt>` lines of a parallel test set")
        out = []
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            fields = line.split()
            if len(fields) != 2 or any(u not in utt2spk for u in fields):
                raise SpeechkitError(f"{where(path, lineno)}: expected two utterances of "
                                     f"{data}/utt2spk, got '{line}'")
            src, tgt = fields
            out.append((f"{src}_to_{tgt}", src, utt2spk[tgt], tgt))
        return out
    return [(utt, utt, target, utt) for utt in utt2spk]


def check_inputs(data):
    for name in ("feats.scp", "lf0.scp", "bap.scp", "utt2spk"):
        if not (data / name).is_file():
            raise SpeechkitError(f"{data}/{name}: missing; compute the features with "
                                 f"local/make_mcep.sh")


def decode(system, data, out, todo, with_wav):
    feats, lf0s, baps = (load_scp(data / n) for n in ("feats.scp", "lf0.scp", "bap.scp"))
    utt2spk = read_dict(data / "utt2spk")
    ref_lines = dict(read_table(data / "feats.scp", check_sorted=False))
    names = ("mcep", "mcep_gv")
    latent_kl, frames = 0.0, 0
    with contextlib.ExitStack() as stack:  # every output is committed only if all went well
        mats = [stack.enter_context(MatrixWriter(f"ark,scp:{out}/{n}.ark,{out}/{n}.scp"))
                for n in names]
        wavs = [stack.enter_context(open_writer("wav", out / n.replace("mcep", "wav"),
                                                system.sample_rate)) for n in names] \
            if with_wav else []
        for key, src, target, _ in progress(todo, desc="mcep-reconstruct", unit="utt"):
            if src not in feats:
                raise SpeechkitError(f"{where(data / 'feats.scp', key=src)}: no features")
            item = Analysis(np.asarray(feats[src]), np.asarray(lf0s[src]),
                            np.asarray(baps[src]), utt2spk.get(src))
            system.set_target(target)
            result = system.convert(item, where(data / "feats.scp", key=src))
            for writer, mcep in zip(mats, (result.mcep, result.mcep_gv)):
                writer.write(key, mcep)
            for writer, mcep in zip(wavs, (result.mcep, result.mcep_gv)):
                writer.write(key, system.resynthesize(mcep, result.lf0, item.bap))
            if hasattr(system.task, "latent_kl") and target is None:
                latent_kl = latent_kl + system.task.latent_kl(system.md.model,
                                                              system.task.normalise(item.mcep))
                frames += len(item.mcep)
    atomic_write_text(out / "ref.scp", "".join(f"{key} {ref_lines[ref]}\n"
                                               for key, _, _, ref in sorted(todo)))
    return latent_kl / frames if frames else None


@common.cli("speechkit mcep-reconstruct")
def main(argv=None):
    args = get_parser().parse_args(argv)
    data, model = Path(args.data), Path(args.model)
    out = Path(args.out_opt or args.out or model / f"decode_{data.name}")
    if args.convert_pairs and args.target_speaker:
        raise SpeechkitError("give either --convert-pairs or --target-speaker, not both")
    check_inputs(data)
    if args.baseline:
        fit_baseline(args.baseline, args.latent, args.train_data, model)
    system = McepResynthesis(model, args.checkpoint)
    if args.target_speaker:
        system.task.speaker_id(args.target_speaker)  # an unknown speaker fails before any work
    todo = jobs(data, args.convert_pairs, args.target_speaker, read_dict(data / "utt2spk"))
    out.mkdir(parents=True, exist_ok=True)
    kl = decode(system, data, out, todo, not args.no_wav)
    shutil.copy(system.md.config["data"]["features"], out / FEATS_FILE)
    if kl is not None:
        atomic_write_text(out / "latents.json", json.dumps(
            {"active_latents": int((kl > ACTIVE_KL_NATS).sum()),
             "kl_per_dim": [round(float(v), 5) for v in kl]}, indent=1) + "\n")
    mode = "conversion" if args.convert_pairs or args.target_speaker else "reconstruction"
    conf = {"model": model, "checkpoint": args.checkpoint, "data": data, "mode": mode,
            "target": args.target_speaker}
    atomic_write_text(out / "decode.conf", "".join(f"{k} {v}\n" for k, v in sorted(conf.items())
                                                   if v is not None))  # a sorted Kaldi table
    print(f"mcep-reconstruct: {len(todo)} utterances of {data} ({mode}) into {out}",
          file=sys.stderr)

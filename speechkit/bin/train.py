"""Train a network of any registered task into an experiment dir (exp/<tag>).

  speechkit train --config conf/train.yaml --exp-dir exp/train \\
      --train-data data/train --dev-data data/dev --token-list data/lang/tokens.txt \\
      --cmvn data/train/cmvn_global.ark [--resume] [--ngpu N] [--nproc N] [train.epochs=3 ...]

The config (YAML: task, model, optim, train sections) is resolved and saved as
exp/<tag>/config.yaml; trailing key.sub=value arguments override it. A finished experiment is
left as it is (the stage is idempotent); an unfinished one continues with --resume, and only
with the same config. The exp dir also gets what inference needs: the token list, the feature
config and the CMVN stats.
"""
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch

from speechkit.bin import common
from speechkit.errors import SpeechkitError
from speechkit.tasks import get_task
from speechkit.train import checkpoint as ckpt
from speechkit.train import distributed
from speechkit.train.config import DEFAULTS, load_config, merge, read_saved, save_config
from speechkit.train.dataset import FeatureSet
from speechkit.train.trainer import Trainer

log = logging.getLogger("speechkit.train")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--config", required=True, help="training config (YAML)")
    parser.add_argument("--exp-dir", required=True, help="experiment dir to create or continue")
    parser.add_argument("--train-data", required=True, help="training data dir (with feats.scp)")
    parser.add_argument("--dev-data", required=True, help="dev data dir, for early stopping")
    parser.add_argument("--token-list", help="tokens.txt (tasks with token targets)")
    parser.add_argument("--cmvn", help="global CMVN stats (compute-cmvn-stats without --spk2utt)")
    parser.add_argument("--resume", action="store_true",
                        help="continue an unfinished run from exp-dir/checkpoint.pt")
    parser.add_argument("--ngpu", type=int, default=0, help="GPUs to use (0: CPU)")
    parser.add_argument("--nproc", type=int, default=None,
                        help="DDP processes (default: max(ngpu, 1)); >1 relaunches under torchrun, "
                             "with gloo on CPU and nccl on GPUs")
    parser.add_argument("overrides", nargs="*", metavar="key.sub=value",
                        help="config overrides, e.g. train.epochs=3 model.hidden=128")
    return parser


def resolve_config(args):
    first = load_config(args.config, args.overrides)
    task_cls = get_task(first.get("task"))
    config = load_config(args.config, args.overrides, merge(DEFAULTS, task_cls.defaults))
    config["data"] = {"train": args.train_data, "dev": args.dev_data, "tokens": args.token_list,
                      "cmvn": args.cmvn, "features": feature_config(args.train_data)}
    return task_cls, config


def feature_config(data_dir):
    """The feature config that make_feats.sh copied to <data>/conf/<type>.<ext>."""
    found = sorted(p for p in (Path(data_dir) / "conf").glob("*") if p.suffix in (".yaml", ".conf"))
    if len(found) != 1:
        raise SpeechkitError(f"{data_dir}/conf: expected one feature config (written by "
                             f"utils/make_feats.sh), found {len(found)}")
    return str(found[0])


def check_exp_dir(exp, config, resume):
    """'new', 'resume' or 'done'; a different config in the same dir is an error."""
    saved_path = exp / "config.yaml"
    if not saved_path.exists():
        return "new"
    if read_saved(saved_path) != config:
        raise SpeechkitError(f"{saved_path} differs from this run's config; use another --tag "
                             f"(exp dir) or remove {exp}")
    if (exp / "checkpoint.pt").exists():
        if ckpt.load(exp / "checkpoint.pt")["trainer"]["done"]:
            return "done"
        if not resume:
            raise SpeechkitError(f"{exp} holds an unfinished run; pass --resume to continue it "
                                 f"or remove the dir to start again")
        return "resume"
    return "new"


def copy_model_files(task, config, exp):
    data = config["data"]
    feats = Path(data["features"])
    shutil.copy(feats, exp / f"feats{feats.suffix}")
    (exp / "feats.type").write_text(feats.stem + "\n")
    if data["cmvn"]:
        shutil.copy(data["cmvn"], exp / "cmvn.ark")
    task.prepare(data)


def setup_log_file(exp, rank):
    if rank == 0:
        handler = logging.FileHandler(exp / "train.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logging.getLogger("speechkit").addHandler(handler)


def relaunch(argv, nproc):
    """Run this same command under torchrun with nproc processes.

    --nproc is dropped from the children's arguments: torchrun would take it for its own
    --nproc-per-node, and the children know the world size from their environment.
    """
    child = []
    skip = False
    for arg in argv:
        if skip or arg.startswith("--nproc="):
            skip = False
            continue
        skip = arg == "--nproc"
        if not skip:
            child.append(arg)
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    return subprocess.call(distributed.torchrun_argv(nproc, ["train"] + child), env=env)


@common.cli("speechkit train")
def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = get_parser().parse_args(argv)
    nproc = args.nproc or max(args.ngpu, 1)
    if nproc > 1 and "WORLD_SIZE" not in os.environ:
        return relaunch(argv, nproc)
    common.setup_logging()
    task_cls, config = resolve_config(args)
    exp = Path(args.exp_dir)
    status = check_exp_dir(exp, config, args.resume)
    if status == "done":
        print(f"speechkit train: {exp} is already trained; nothing to do", file=sys.stderr)
        return 0
    dist = distributed.init(args.ngpu)
    try:
        exp.mkdir(parents=True, exist_ok=True)
        setup_log_file(exp, dist.rank)
        task = task_cls(config, exp)
        if dist.is_main and status == "new":
            save_config(config, exp / "config.yaml")
            copy_model_files(task, config, exp)
        train(task, config, exp, distributed.device_for(args.ngpu), dist, status == "resume")
    finally:
        distributed.cleanup()
    return 0


def train(task, config, exp, device, dist, resume):
    data, tconf = config["data"], config["train"]
    torch.manual_seed(tconf["seed"])
    sets = [FeatureSet(data[part], data["cmvn"], tconf["preload"]) for part in ("train", "dev")]
    model = task.build_model(sets[0].dim)
    for part, dataset in zip(("train", "dev"), sets):
        dataset.set_targets(task.targets(Path(data[part]), dataset.lengths))
    trainer = Trainer(task, model, config, exp, sets[0], sets[1], device, dist)
    if resume:
        trainer.resume()
    trainer.fit()

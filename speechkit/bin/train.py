"""Train a network of any registered task into an experiment dir (exp/<tag>).

  speechkit train --config conf/train.yaml --exp-dir exp/train \\
      --train-data data/train --dev-data data/dev [--resume] [--ngpu N] [--nproc N] \\
      [data.tokens=data/lang/tokens.txt data.cmvn=data/train/cmvn_global.ark train.epochs=3 ...]

The config (YAML: task, data, model, optim, train sections) is resolved and saved as
exp/<tag>/config.yaml; trailing key.sub=value arguments override it, and task inputs are such
`data.<key>` options. Unknown keys and wrong types are errors before anything is written. A
finished experiment is left as it is (the stage is idempotent); an unfinished one continues
with --resume, and only with the same config. The exp dir also gets what inference needs (the
task's assets: the typed feature config, CMVN stats, token list, ...).
"""
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.features.config import FEATS_FILE
from speechkit.tasks import get_task
from speechkit.train import checkpoint as ckpt
from speechkit.train import distributed
from speechkit.train.config import (DEFAULTS, check_config, first_difference, load_config, merge,
                                    read_saved, save_config)
from speechkit.train.optim import param_groups
from speechkit.train.trainer import Trainer

log = logging.getLogger("speechkit.train")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--config", required=True, help="training config (YAML)")
    parser.add_argument("--exp-dir", required=True, help="experiment dir to create or continue")
    parser.add_argument("--train-data", help="training data dir (sets data.train)")
    parser.add_argument("--dev-data", help="dev data dir, for early stopping (sets data.dev)")
    parser.add_argument("--resume", action="store_true",
                        help="continue an unfinished run from exp-dir/checkpoint.pt")
    parser.add_argument("--ngpu", type=int, default=0, help="GPUs to use (0: CPU)")
    parser.add_argument("--nproc", type=int, default=None,
                        help="DDP processes (default: max(ngpu, 1)); >1 relaunches under torchrun, "
                             "with gloo on CPU and nccl on GPUs")
    parser.add_argument("overrides", nargs="*", metavar="key.sub=value",
                        help="config overrides, e.g. train.epochs=3 data.tokens=tokens.txt")
    return parser


def resolve_config(args):
    """The task class and the full config: defaults <- task defaults <- file <- overrides."""
    first = load_config(args.config, args.overrides)
    task_cls = get_task(first.get("task"))
    config = load_config(args.config, args.overrides, merge(DEFAULTS, task_cls.defaults))
    data = config["data"]
    for key, value in (("train", args.train_data), ("dev", args.dev_data)):
        data[key] = value or data[key]
        if not data[key]:
            raise SpeechkitError(f"no {key} data: pass --{key}-data DIR or data.{key}=DIR")
    data["features"] = data["features"] or str(Path(data["train"]) / FEATS_FILE)
    check_config(config, merge(DEFAULTS, task_cls.defaults), args.config)
    check_assets(task_cls, data)
    return task_cls, config


def check_assets(task_cls, data):
    """Every file the model dir will keep must exist before anything is written."""
    for key in task_cls.assets:
        if data.get(key) and not Path(data[key]).is_file():
            raise SpeechkitError(f"data.{key}: {data[key]} does not exist")


def check_exp_dir(exp, config, resume, defaults=None):
    """'new', 'resume' or 'done'; a different config in the same dir is an error.

    A key the saved config lacks counts as its value in `defaults`: an option added after the
    run was made defaults to the behaviour that run had (e.g. train.copies: all).
    """
    saved_path = exp / "config.yaml"
    if not saved_path.exists():
        return "new"
    saved = read_saved(saved_path)
    changed = first_difference(merge(defaults, saved) if defaults else saved, config)
    if changed:
        raise SpeechkitError(f"{saved_path} differs from this run's config at {changed}; use "
                             f"another --tag (exp dir) or remove {exp}")
    state = ckpt.load_latest(exp / "checkpoint.pt")
    if state is None:
        return "new"
    if state["trainer"]["done"]:
        return "done"
    if not resume:
        raise SpeechkitError(f"{exp} holds an unfinished run; pass --resume to continue it "
                             f"or remove the dir to start again")
    return "resume"


def copy_assets(task, config, exp):
    """What inference needs, from the data side into the model dir."""
    for key, name in task.assets.items():
        if config["data"].get(key):
            shutil.copy(config["data"][key], exp / name)


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
    status = check_exp_dir(exp, config, args.resume, merge(DEFAULTS, task_cls.defaults))
    if status == "done":
        print(f"speechkit train: {exp} is already trained; nothing to do", file=sys.stderr)
        return 0
    # The network is built before anything is written, so a bad model option leaves no exp dir.
    torch.manual_seed(config["train"]["seed"])
    task = task_cls(config, exp)
    model = task.build_model(task.input_dim())
    param_groups(model, config["optim"])  # a bad optim.frontend_lr fails here too
    dist = distributed.init(args.ngpu)
    try:
        exp.mkdir(parents=True, exist_ok=True)
        setup_log_file(exp, dist.rank)
        if dist.is_main and status == "new":
            copy_assets(task, config, exp)
            save_config(config, exp / "config.yaml")
        train(task, model, config, exp, distributed.device_for(args.ngpu), dist, status == "resume")
    finally:
        distributed.cleanup()
    return 0


def train(task, model, config, exp, device, dist, resume):
    train_set, dev_set = task.dataset("train"), task.dataset("dev")
    trainer = Trainer(task, model, config, exp, train_set, dev_set, device, dist)
    if resume:
        trainer.resume()
    trainer.fit()

"""Checkpoints: written atomically with the previous one kept, loaded with weights_only=True.

`checkpoint.pt` holds everything needed to resume exactly (model, optimizer, scheduler, scaler,
RNG states, epoch/step, history); `epoch<N>.pt` holds the model alone, for averaging.
"""
import logging
import os
import pickle
import random
from pathlib import Path

import torch

from speechkit.errors import SpeechkitError
from speechkit.io import atomic

log = logging.getLogger("speechkit.train")


def previous(path):
    """checkpoint.pt -> checkpoint.prev.pt"""
    path = Path(path)
    return path.with_suffix(".prev" + path.suffix)


def save(obj, path, keep_previous=False):
    """torch.save to a temporary name, then rename; the old file becomes <name>.prev.

    A full disk or a read-only dir is one clear error, with nothing half-written left behind;
    temporary files of processes that died (kill -9) are removed on the next save.
    """
    path = Path(path)
    tmp = atomic.temp_path(path)
    try:
        torch.save(obj, tmp)
        if keep_previous and path.exists():
            os.replace(path, previous(path))
        os.replace(tmp, path)
    except OSError as e:
        atomic.discard(tmp)
        raise atomic.write_error(path, e) from None
    atomic.remove_stale_temps(path)


def load(path, device="cpu"):
    path = Path(path)
    if not path.is_file():
        raise SpeechkitError(f"{path}: no such checkpoint")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        raise SpeechkitError(f"{path}: not a speechkit checkpoint (it holds objects other than "
                             f"tensors and plain values); it was not loaded") from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise SpeechkitError(f"{path}: cannot load checkpoint ({str(e).splitlines()[0]})") from None


def load_latest(path, device="cpu"):
    """The resume state: `path`, or its .prev when `path` is missing or unreadable (said in the
    log); None when neither exists."""
    path, prev = Path(path), previous(path)
    if not path.exists() and not prev.exists():
        return None
    try:
        return load(path, device)
    except SpeechkitError as e:
        if not prev.exists():
            raise
        log.warning("%s; resuming from the previous checkpoint %s", e, prev.name)
        return load(prev, device)


def rng_state():
    state = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state):
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def average(paths):
    """Element-wise mean of model state dicts (ESPnet's average_nbest_models)."""
    total = None
    for p in paths:
        state = load(p)
        if total is None:
            total = {k: v.clone().double() if v.is_floating_point() else v.clone()
                     for k, v in state.items()}
        else:
            for k, v in state.items():
                if v.is_floating_point():
                    total[k] += v.double()
    return {k: (v / len(paths)).to(torch.float32) if v.is_floating_point() else v
            for k, v in total.items()}


def link(target, name):
    """exp/x/best.pt -> epoch7.pt, replaced atomically."""
    name = Path(name)
    tmp = name.with_name(f".{name.name}.tmp{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path(target).name)
    os.replace(tmp, name)

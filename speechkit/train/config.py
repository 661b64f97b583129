"""Training configs: YAML files merged over defaults, with `key.sub=value` overrides.

The resolved config is saved as exp/<tag>/config.yaml; resuming with a different config is an
error rather than a silent restart, since the tag names the config (ESPnet's mangled tags are
what we avoid).
"""
import copy
from pathlib import Path

import yaml

from speechkit.errors import SpeechkitError

DEFAULTS = {
    "task": None,
    "model": {},
    "optim": {"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "clip": 5.0,
              "scheduler": {"name": "plateau", "factor": 0.5, "patience": 1}},
    "train": {"epochs": 20, "seed": 1, "batch_frames": 20000, "max_batch": 64,
              "patience": 5, "keep_nbest": 5, "preload": True, "checkpoint_every": 0,
              "amp": True, "log_every": 20},
}


def merge(base, update):
    """Deep-merge `update` into a copy of `base`."""
    out = copy.deepcopy(base)
    for key, value in (update or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text):
    """'train.epochs=3' -> {'train': {'epochs': 3}} (the value is parsed as YAML)."""
    if "=" not in text:
        raise SpeechkitError(f"bad override '{text}': expected key.sub=value")
    dotted, raw = text.split("=", 1)
    value = yaml.safe_load(raw) if raw else ""
    for key in reversed(dotted.split(".")):
        value = {key: value}
    return value


def load_config(path, overrides=(), defaults=None):
    """Defaults <- file <- overrides, resolved into one dict."""
    path = Path(path)
    if not path.is_file():
        raise SpeechkitError(f"{path}: no such config file")
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise SpeechkitError(f"{path}: not valid YAML: {e}".splitlines()[0]) from None
    if not isinstance(loaded, dict):
        raise SpeechkitError(f"{path}: the config must be a mapping of sections")
    config = merge(defaults if defaults is not None else DEFAULTS, loaded)
    for text in overrides:
        config = merge(config, parse_override(text))
    return config


def save_config(config, path):
    Path(path).write_text(yaml.safe_dump(config, sort_keys=False))


def read_saved(path):
    return yaml.safe_load(Path(path).read_text())

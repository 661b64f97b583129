"""Training configs: YAML files merged over defaults, with `key.sub=value` overrides.

The resolved config is saved as exp/<tag>/config.yaml; resuming with a different config is an
error rather than a silent restart, since the tag names the config (ESPnet's mangled tags are
what we avoid).
"""
import copy
import difflib
from pathlib import Path

import yaml

from speechkit.errors import SpeechkitError
from speechkit.io.atomic import atomic_write_text

DEFAULTS = {
    "task": None,
    # Task inputs: data dirs, the typed feature config (default <train>/feats.yaml), global
    # CMVN stats and whether each utterance's mean is removed after them (FeatureNorm); a
    # task's defaults add its own keys (tokens, label_table, ...).
    "data": {"train": None, "dev": None, "features": None, "cmvn": None, "utt_cmn": False},
    "model": {},
    "optim": {"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "clip": 5.0,
              "scheduler": {"name": "plateau", "factor": 0.5, "patience": 1}},
    "train": {"epochs": 20, "seed": 1, "batch_frames": 20000, "max_batch": 64,
              "patience": 5, "keep_nbest": 5, "preload": True, "checkpoint_every": 0,
              "amp": True, "log_every": 20, "num_threads": "auto", "copies": "all"},
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
    atomic_write_text(path, yaml.safe_dump(config, sort_keys=False))


def read_saved(path):
    try:
        saved = yaml.safe_load(Path(path).read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise SpeechkitError(f"{path}: not a valid saved config ({str(e).splitlines()[0]}); "
                             f"remove the exp dir or restore the file") from None
    if not isinstance(saved, dict):
        raise SpeechkitError(f"{path}: not a saved config (expected a mapping of sections)")
    return saved


# Known keys left out of DEFAULTS, so that saved configs of earlier runs still match: the
# value gives the type.
OPTIONAL = {"optim": {"frontend_lr": 0.0}}

# Sections whose keys are all known in advance (model: the network's arguments, checked when it
# is built; optim.scheduler: its keys depend on its name).
_CHECKED = ("data", "optim", "train")
_OPEN = {("optim", "scheduler")}


def check_config(config, defaults, origin):
    """Unknown keys and values of the wrong type are errors naming the key and a near one."""
    for key in config:
        if key not in defaults:
            raise SpeechkitError(_unknown(origin, key, defaults))
    for section in _CHECKED:
        if not isinstance(config[section], dict):
            raise SpeechkitError(f"{origin}: section {section} must be a mapping")
        known = {**OPTIONAL.get(section, {}), **defaults[section]}
        for key, value in config[section].items():
            if key not in known:
                raise SpeechkitError(_unknown(origin, f"{section}.{key}", known, f"{section}."))
            if (section, key) not in _OPEN:
                _check_type(origin, f"{section}.{key}", value, known[key])


def _unknown(origin, dotted, known, prefix=""):
    near = difflib.get_close_matches(dotted[len(prefix):], list(known), n=1)
    hint = f"; did you mean {prefix}{near[0]}?" if near else f"; known: {', '.join(sorted(known))}"
    return f"{origin}: unknown config key {dotted}{hint}"


def _check_type(origin, dotted, value, default):
    if default is None or value is None:
        return
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and (isinstance(default, float) or float(value).is_integer())
    elif default == "auto":  # "auto" or a number
        ok = value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value > 0)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        want = "auto or a positive integer" if default == "auto" else type(default).__name__
        raise SpeechkitError(f"{origin}: {dotted} must be {want}, got {value!r}")


def first_difference(a, b, prefix=""):
    """The first dotted key where two configs differ ('' when equal)."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return "" if a == b else prefix.rstrip(".") or "(top level)"
    for key in sorted(set(a) | set(b), key=str):
        if key not in a or key not in b:
            return f"{prefix}{key}"
        found = first_difference(a[key], b[key], f"{prefix}{key}.")
        if found:
            return found
    return ""

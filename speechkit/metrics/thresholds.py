"""Decision thresholds chosen on dev data, kept in a model dir as thresholds.json.

Layout: {layer: {scoring: {"threshold": t, "chosen_on": where}}}, e.g. the speaker recipe's
{"dense1": {"cosine": {...}}, "softmax": {"kl": {...}, "cosine": {...}}}. `speechkit
score-speaker --choose-threshold` writes entries; scoring and `speechkit infer speaker
--compare` read them. Kept here, beside the metrics that choose them, so that scoring needs no
network code.
"""
import json
from pathlib import Path

from speechkit.errors import SpeechkitError
from speechkit.io import atomic_write_text

THRESHOLDS = "thresholds.json"


def scoring_for(layer):
    """The natural pair scoring of an embedding layer: symmetric KL for the softmax output
    (a distribution), cosine otherwise."""
    return "kl" if layer == "softmax" else "cosine"


def read_thresholds(model_dir):
    """The whole table ({} when the model dir has none yet)."""
    path = Path(model_dir) / THRESHOLDS
    if not path.is_file():
        return {}
    try:
        table = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SpeechkitError(f"{path}: not valid JSON ({e}); remove it and choose the thresholds "
                             f"again (speechkit score-speaker --choose-threshold)") from None
    if not isinstance(table, dict):
        raise SpeechkitError(f"{path}: expected {{layer: {{scoring: ...}}}}; remove it and choose "
                             f"the thresholds again")
    return table


def store_threshold(model_dir, layer, scoring, threshold, chosen_on):
    """Record one threshold (the other entries are kept)."""
    table = read_thresholds(model_dir)
    table.setdefault(layer, {})[scoring] = {"threshold": float(threshold),
                                            "chosen_on": str(chosen_on)}
    atomic_write_text(Path(model_dir) / THRESHOLDS, json.dumps(table, indent=2) + "\n")


def stored_threshold(model_dir, layer, scoring):
    """The threshold of (layer, scoring), or None."""
    entry = read_thresholds(model_dir).get(layer, {}).get(scoring)
    return None if entry is None else float(entry["threshold"])

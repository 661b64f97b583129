"""WA / UA / macro-F1 against scikit-learn and a hand-worked case; score-classify end to end."""
import json

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from conftest import run
from speechkit.io import write_table
from speechkit.metrics.classification import class_scores


def test_hand_worked():
    refs = ["a", "a", "a", "a", "b", "b", "c"]
    hyps = ["a", "a", "a", "b", "b", "a", "b"]
    scores, classes, mat = class_scores(refs, hyps)
    assert classes == ["a", "b", "c"]
    assert mat.tolist() == [[3, 1, 0], [1, 1, 0], [0, 1, 0]]
    assert np.isclose(scores["wa"], 400 / 7)
    assert np.isclose(scores["ua"], 100 * (3 / 4 + 1 / 2 + 0) / 3)
    # F1: a = 2*.75*.75/1.5 = .75, b = 2*(1/3)(1/2)/(5/6) = .4, c = 0
    assert np.isclose(scores["macro_f1"], 100 * (0.75 + 0.4) / 3)


def test_against_sklearn_on_random_labels():
    rng = np.random.default_rng(0)
    refs = rng.choice(list("abcde"), 300, p=[.4, .3, .15, .1, .05])
    hyps = np.where(rng.random(300) < 0.6, refs, rng.choice(list("abcde"), 300))
    scores, _, _ = class_scores(refs, hyps)
    assert np.isclose(scores["wa"], 100 * accuracy_score(refs, hyps))
    assert np.isclose(scores["ua"], 100 * balanced_accuracy_score(refs, hyps))
    assert np.isclose(scores["macro_f1"], 100 * f1_score(refs, hyps, average="macro"))


def test_score_classify_writes_scores(tmp_path):
    write_table(tmp_path / "ref", {"u1": "sad", "u2": "sad", "u3": "happy"})
    write_table(tmp_path / "text", {"u1": "sad", "u2": "happy", "u3": "happy"})
    out = run(f"speechkit score-classify {tmp_path}").stdout
    assert "%WA 66.67 %UA 75.00" in out
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["recall"] == {"happy": 100.0, "sad": 50.0} and scores["utterances"] == 3
    write_table(tmp_path / "text", {"u1": "sad"})
    bad = run(f"speechkit score-classify {tmp_path}", check=False)
    assert bad.returncode == 1 and "no label for 2 utterances" in bad.stderr

"""Claims of the README that need a test of their own: token ids, the comparison table's mean
and standard deviation, per-keyword false rejects, and a fixed PCEN front-end staying fixed."""
import json

import numpy as np
import torch

from conftest import run
from speechkit.io import MatrixWriter, write_table
from speechkit.nn.registry import build_model


def test_make_tokens_ids(tmp_path):
    (tmp_path / "text").write_text("u1 ba ab\nu2 c\n")
    run(f"speechkit make-tokens {tmp_path}/text {tmp_path}/tokens.txt")
    assert (tmp_path / "tokens.txt").read_text() == "<blank> 0\n<unk> 1\n<space> 2\na 3\nb 4\nc 5\n"
    run(f"speechkit make-tokens --unit label {tmp_path}/text {tmp_path}/labels.txt")
    assert (tmp_path / "labels.txt").read_text() == "ba ab 0\nc 1\n"


def fake_run(exp, seed, accuracy):
    (exp / "decode_test").mkdir(parents=True)
    (exp / "config.yaml").write_text(f"task: kws\ntrain: {{seed: {seed}, epochs: 3}}\n")
    (exp / "decode_test" / "scores.json").write_text(json.dumps({"accuracy": accuracy}))


def test_compare_mean_and_std_over_seeds(tmp_path):
    for seed, acc in ((1, 90.0), (2, 94.0), (3, 95.0)):
        fake_run(tmp_path / f"sys_seed{seed}", seed, acc)
    out = run(f"speechkit compare --metric accuracy {tmp_path}/sys_seed1 {tmp_path}/sys_seed2 "
              f"{tmp_path}/sys_seed3").stdout
    # mean 93.0; sample std sqrt(((-3)^2 + 1^2 + 2^2) / 2) = sqrt(7) = 2.6458
    assert "| sys | 93.00 ± 2.65 |" in out


def test_score_kws_false_rejects_per_keyword(tmp_path):
    labels = ["_unknown_", "no", "yes"]
    # 'yes' utterances score .9 .8 .3 .2 for yes; the 6 others score .85 .1 .1 .1 .1 .1.
    rows = [("a1", "yes", .9), ("a2", "yes", .8), ("a3", "yes", .3), ("a4", "yes", .2),
            ("b1", "no", .85), ("b2", "no", .1), ("b3", "_unknown_", .1), ("b4", "_unknown_", .1),
            ("b5", "no", .1), ("b6", "no", .1)]
    with MatrixWriter(f"ark,t:{tmp_path}/posteriors.txt") as w:
        for key, _, p in rows:
            other = (1 - p) / 2
            w.write(key, np.array([[other, other, p]]))
    write_table(tmp_path / "ref", {k: lab for k, lab, _ in rows})
    write_table(tmp_path / "text", {k: lab for k, lab, _ in rows})
    (tmp_path / "labels.txt").write_text("".join(f"{lab} {i}\n" for i, lab in enumerate(labels)))
    run(f"speechkit score-kws --fa-rate 0.2 {tmp_path}")
    scores = json.loads((tmp_path / "scores.json").read_text())
    # yes: 20% of 6 negatives lets 1 pass (the .85); the threshold sits just above the next
    # negative (.1), and no positive is below it.
    assert scores["frr"]["yes"] == 0.0
    run(f"speechkit score-kws --fa-rate 0.1 {tmp_path}")
    scores = json.loads((tmp_path / "scores.json").read_text())
    # 10% of 6 lets no negative pass: the threshold sits just above .85, rejecting .8 .3 .2.
    assert scores["frr"]["yes"] == 75.0


def test_fixed_pcen_keeps_its_parameters_through_training():
    torch.manual_seed(0)
    model = build_model({"name": "kws_cnn", "frontend": "pcen_fixed", "channels": [4, 4],
                         "hidden": 8}, 20, 3)
    before = {k: v.clone() for k, v in model.state_dict().items() if "pcen" in k}
    assert before
    opt = torch.optim.Adam(model.parameters(), lr=0.1, weight_decay=0.1)
    x, y = torch.rand(8, 98, 20) * 10, torch.randint(0, 3, (8,))
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    moved = [k for k, v in after.items() if "pcen" not in k and v.is_floating_point()]
    assert moved  # the rest of the network did train

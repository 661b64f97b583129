"""The shared trainer on a small ASR task: masking, exact resume after kill -9, DDP = 1 process."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import REPO
from speechkit.data.tokens import char_inventory, write_tokens
from speechkit.io import MatrixWriter, write_table
from speechkit.nn.ctc_bilstm import CTCBiLSTM
from speechkit.tasks.asr import ctc_frames_needed
from speechkit.train import checkpoint as ckpt
from speechkit.data.batch import pad
from speechkit.train.batching import make_batches

WORDS = ["one", "two", "three", "oh", "five"]
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def make_split(root, name, num_utts, seed):
    """A data dir of random 20-dim 'features' with digit-word transcripts."""
    rng = np.random.default_rng(seed)
    d = root / name
    d.mkdir(parents=True)
    text, frames, utt2spk = {}, {}, {}
    with MatrixWriter(f"ark,scp:{d}/feats.ark,{d}/feats.scp") as w:
        for i in range(num_utts):
            utt = f"spk{i % 3}-{name}{i:03d}"
            words = [WORDS[j] for j in rng.integers(0, len(WORDS), rng.integers(1, 4))]
            n = int(rng.integers(60, 120))
            w[utt] = rng.standard_normal((n, 20)).astype(np.float32) + 0.1 * len(words)
            text[utt], frames[utt], utt2spk[utt] = " ".join(words), n, f"spk{i % 3}"
    write_table(d / "text", text)
    write_table(d / "utt2num_frames", frames)
    write_table(d / "utt2spk", utt2spk)
    (d / "feats.yaml").write_text("type: fbank\nnum_mel_bins: 20\n")
    return d


@pytest.fixture(scope="module")
def asr_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("asr")
    train = make_split(root, "train", 48, 0)
    make_split(root, "dev", 12, 1)
    write_tokens(root / "tokens.txt", char_inventory((train / "text").read_text().split("\n")))
    (root / "train.yaml").write_text(
        "task: asr\n"
        "model: {name: ctc_bilstm, subsample: 2, conv_channels: 16, hidden: 16, layers: 2, dropout: 0.0}\n"
        "optim: {name: adam, lr: 0.01, clip: 5.0, scheduler: {name: plateau, patience: 0}}\n"
        "train: {epochs: 3, seed: 7, batch_frames: 1200, max_batch: 8, patience: 0, keep_nbest: 2,"
        " log_every: 100}\n")
    return root


def train_cmd(root, exp, *extra):
    return [sys.executable, "-m", "speechkit.bin.main", "train", "--config", str(root / "train.yaml"),
            "--exp-dir", str(exp), "--train-data", str(root / "train"), "--dev-data", str(root / "dev"),
            f"data.tokens={root / 'tokens.txt'}", *extra]


def run_train(root, exp, *extra):
    proc = subprocess.run(train_cmd(root, exp, *extra), text=True, capture_output=True,
                          env=ENV)
    assert proc.returncode == 0, proc.stderr
    return proc


def weights(path):
    return ckpt.load(path)


def assert_same(a, b, atol=0.0):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=atol, rtol=0 if atol == 0 else 1e-4)


def test_padding_changes_nothing():
    torch.manual_seed(0)
    model = CTCBiLSTM(12, 9, hidden=8, layers=2, dropout=0.0, subsample=4, conv_channels=8).eval()
    mats = [np.random.default_rng(i).standard_normal((n, 12)).astype(np.float32) for i, n in
            enumerate([37, 50, 21])]
    x, lengths = pad(mats)
    batched, out_lengths = model(x, lengths)
    for i, m in enumerate(mats):
        alone, n = model(torch.from_numpy(m)[None], torch.tensor([len(m)]))
        assert out_lengths[i] == n[0] == (len(m) + 3) // 4
        torch.testing.assert_close(batched[i, :n[0]], alone[0], atol=1e-5, rtol=1e-5)
    # Garbage in the padded frames must not reach the real ones either.
    x_noisy = x.clone()
    for i, m in enumerate(mats):
        x_noisy[i, len(m):] = 1e3
    noisy, _ = model(x_noisy, lengths)
    for i, n in enumerate(out_lengths):
        torch.testing.assert_close(noisy[i, :n], batched[i, :n])


def test_ctc_feasibility_counts_repeats():
    assert ctc_frames_needed([1, 2, 3]) == 3
    assert ctc_frames_needed([5, 5, 2, 2, 2]) == 8


def test_bucketing_keeps_padding_small():
    rng = np.random.default_rng(0)
    lengths = {f"u{i}": int(n) for i, n in enumerate(rng.integers(100, 400, 300))}
    batches = make_batches(lengths, batch_frames=3000, max_batch=16, min_batch=2)
    assert sorted(k for b in batches for k in b) == sorted(lengths)
    assert all(len(b) >= 2 for b in batches)
    assert all(lengths[b[0]] * len(b) <= 3000 for b in batches if len(b) > 2)


def test_train_writes_exp_dir_and_is_idempotent(asr_data, tmp_path):
    exp = tmp_path / "exp"
    run_train(asr_data, exp)
    for name in ("config.yaml", "train.log", "checkpoint.pt", "epoch3.pt", "best.pt", "ave.pt",
                 "tokens.txt", "feats.yaml", "images/loss.png", "images/cer.png"):
        assert (exp / name).exists(), name
    log = (exp / "train.log").read_text()
    assert "padding" in log and "epoch 3" in log
    again = run_train(asr_data, exp)
    assert "already trained" in again.stderr
    changed = subprocess.run(train_cmd(asr_data, exp, "train.epochs=4"), text=True,
                             capture_output=True)
    assert changed.returncode == 1 and "differs from this run's config" in changed.stderr


# Runs `speechkit train` and kills itself with SIGKILL when a given optimizer step begins, so
# the interruption lands at the same point on any machine.
KILL_AT_STEP = """
import os, signal, sys
from speechkit.train.trainer import Trainer
step, original = int(os.environ["KILL_AT_STEP"]), Trainer.train_step
def train_step(self, batch):
    if self.state["step"] == step:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, batch)
Trainer.train_step = train_step
from speechkit.bin.main import main
sys.exit(main(sys.argv[1:]))
"""


def batches_per_epoch(root):
    lengths = {k: int(v) for k, v in (line.split() for line in
                                      (root / "train" / "utt2num_frames").read_text().splitlines())}
    return len(make_batches(lengths, 1200, 8))


def test_kill_9_and_resume_gives_the_same_weights(asr_data, tmp_path):
    ref = tmp_path / "ref"
    run_train(asr_data, ref, "train.checkpoint_every=2")
    exp = tmp_path / "killed"
    per_epoch = batches_per_epoch(asr_data)
    assert per_epoch > 3
    # Killed as the 4th batch of epoch 2 begins: the last checkpoint is epoch 2, batch 2.
    cmd = train_cmd(asr_data, exp, "train.checkpoint_every=2")
    cmd[1:3] = ["-c", KILL_AT_STEP]
    proc = subprocess.run(cmd, env=dict(ENV, KILL_AT_STEP=str(per_epoch + 3)),
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    state = ckpt.load(exp / "checkpoint.pt")["trainer"]
    assert (state["epoch"], state["batches_done"]) == (1, 2)
    assert not (exp / "ave.pt").exists()
    unfinished = subprocess.run(train_cmd(asr_data, exp, "train.checkpoint_every=2"),
                                text=True, capture_output=True)
    assert unfinished.returncode == 1 and "--resume" in unfinished.stderr
    run_train(asr_data, exp, "train.checkpoint_every=2", "--resume")
    assert "resumed from" in (exp / "train.log").read_text()
    assert_same(weights(exp / "ave.pt"), weights(ref / "ave.pt"))
    assert_same(weights(exp / "epoch3.pt"), weights(ref / "epoch3.pt"))


def test_ddp_two_processes_equal_one(asr_data, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    run_train(asr_data, one, "train.epochs=1")
    run_train(asr_data, two, "train.epochs=1", "--nproc", "2")
    assert_same(weights(one / "epoch1.pt"), weights(two / "epoch1.pt"), atol=1e-5)
    assert "world size 2" in (two / "train.log").read_text()


def test_specaugment_masks_inside_utterances_in_training_only():
    from speechkit.nn.specaug import SpecAugment
    torch.manual_seed(0)
    aug = SpecAugment(freq_masks=2, freq_width=5, time_masks=2, time_width=8)
    x = torch.ones(4, 50, 20)
    lengths = torch.tensor([50, 30, 12, 5])
    out = aug(x, lengths)
    assert out.shape == x.shape and 0 < (out == 0).float().mean() < 0.6
    for i, n in enumerate(lengths.tolist()):
        masked_frames = (out[i] == 0).all(dim=1)
        assert not masked_frames[n:].any()  # time masks never land in padding only
    assert torch.equal(aug.eval()(x, lengths), x)


def test_training_learns_and_best_and_ave_are_the_right_epochs(asr_data, tmp_path):
    exp = tmp_path / "learns"
    run_train(asr_data, exp)
    history = ckpt.load(exp / "checkpoint.pt")["trainer"]["history"]
    dev = [h["dev"]["loss"] for h in history]
    assert dev[-1] < 0.8 * dev[0], dev  # a model that never steps keeps its first dev loss
    first, last = weights(exp / "epoch1.pt"), weights(exp / f"epoch{len(history)}.pt")
    assert max((first[k] - last[k]).abs().max().item() for k in first) > 1e-3
    ranked = sorted(history, key=lambda h: h["dev"]["loss"])
    assert os.readlink(exp / "best.pt") == f"epoch{ranked[0]['epoch']}.pt"
    kept = [weights(exp / f"epoch{h['epoch']}.pt") for h in ranked[:2]]  # keep_nbest: 2
    mean = {k: (kept[0][k] + kept[1][k]) / 2 if kept[0][k].is_floating_point() else kept[0][k]
            for k in kept[0]}
    assert_same(weights(exp / "ave.pt"), mean, atol=1e-6)

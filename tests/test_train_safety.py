"""Training and model dirs given bad input (issue 8): one clear line, a non-zero exit, nothing
written, and the last resumable point never lost."""
import os
import subprocess
import sys

import torch

from test_train import ENV, asr_data, run_train, train_cmd  # noqa: F401  (asr_data: a fixture)
from speechkit.train import checkpoint as ckpt


def train(root, exp, *extra):
    return subprocess.run(train_cmd(root, exp, *extra), text=True, capture_output=True, env=ENV)


def one_line_error(proc, *parts):
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    for part in parts:
        assert part in proc.stderr, proc.stderr


def test_unknown_keys_and_wrong_types_are_errors_before_anything_is_written(asr_data, tmp_path):
    exp = tmp_path / "exp"
    one_line_error(train(asr_data, exp, "optim.lrr=0.1"), "optim.lrr", "did you mean optim.lr")
    one_line_error(train(asr_data, exp, "train.epoch=1"), "train.epoch", "train.epochs")
    one_line_error(train(asr_data, exp, "trian.epochs=1"), "unknown config key trian")
    one_line_error(train(asr_data, exp, "train.epochs=abc"), "train.epochs must be int")
    one_line_error(train(asr_data, exp, "model.hiden=8"), "model.hiden", "model.hidden")
    one_line_error(train(asr_data, exp, "train.num_threads=0"), "train.num_threads")
    assert not exp.exists()
    run_train(asr_data, exp, "train.epochs=1")  # the corrected run is not refused


def test_changed_config_names_the_key_and_corrupt_config_is_one_line(asr_data, tmp_path):
    exp = tmp_path / "exp"
    run_train(asr_data, exp, "train.epochs=1")
    one_line_error(train(asr_data, exp, "train.epochs=1", "optim.lr=0.5"),
                   "differs from this run's config at optim.lr")
    (exp / "config.yaml").write_text("task: [asr\n")
    one_line_error(train(asr_data, exp, "train.epochs=1"), "config.yaml: not a valid saved config")


def test_resume_falls_back_to_the_previous_checkpoint(asr_data, tmp_path):
    exp = tmp_path / "exp"
    run_train(asr_data, exp, "train.epochs=2")
    # checkpoint.prev.pt is the state after epoch 2, before the run was marked finished.
    prev = ckpt.load(exp / "checkpoint.prev.pt")
    assert prev["trainer"]["epoch"] == 2 and not prev["trainer"]["done"]
    os.remove(exp / "checkpoint.pt")
    proc = run_train(asr_data, exp, "train.epochs=2", "--resume")
    log = (exp / "train.log").read_text()
    assert "resuming from the previous checkpoint checkpoint.prev.pt" in log
    assert "resumed from" in log and ckpt.load(exp / "checkpoint.pt")["trainer"]["done"]
    assert (exp / "checkpoint.prev.pt").exists()
    # A truncated checkpoint.pt: the same fallback, said in the log.
    (exp / "checkpoint.pt").write_bytes(b"PK\x03\x04 truncated")
    state = ckpt.load_latest(exp / "checkpoint.pt")
    assert state["trainer"]["epoch"] == 2
    assert proc.returncode == 0


def test_an_unsafe_pickle_is_not_a_checkpoint(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("ran code",))
    path = tmp_path / "ave.pt"
    torch.save({"x": Evil()}, path)
    try:
        ckpt.load(path)
    except Exception as e:  # noqa: BLE001 - the type is what is tested
        assert type(e).__name__ == "SpeechkitError" and "not a speechkit checkpoint" in str(e)
        assert "weights_only" not in str(e)
    else:
        raise AssertionError("an unsafe pickle was loaded")


def test_stale_temporary_checkpoints_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".checkpoint.pt.tmp{dead}"
    stale.write_bytes(b"x" * 100)
    ckpt.save({"a": torch.zeros(1)}, tmp_path / "checkpoint.pt", keep_previous=True)
    assert not stale.exists() and (tmp_path / "checkpoint.pt").exists()


def test_an_exp_dir_that_cannot_be_made_is_one_line(asr_data, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    one_line_error(train(asr_data, blocker / "exp", "train.epochs=1"), str(blocker / "exp"))


def test_a_full_disk_while_checkpointing_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    def full(obj, path):
        open(path, "wb").write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(torch, "save", full)
    try:
        ckpt.save({"a": torch.zeros(1)}, tmp_path / "checkpoint.pt")
    except Exception as e:  # noqa: BLE001 - the type is what is tested
        assert type(e).__name__ == "SpeechkitError" and "No space left on device" in str(e)
    else:
        raise AssertionError("no error")
    assert list(tmp_path.iterdir()) == []


def test_empty_and_unknown_transcripts_are_counted(asr_data, tmp_path):
    import shutil
    root = tmp_path / "root"
    shutil.copytree(asr_data, root)
    text = root / "train" / "text"
    lines = text.read_text().splitlines()
    keys = [line.split()[0] for line in lines]
    text.write_text("".join(f"{k}\n" for k in keys))
    one_line_error(train(root, tmp_path / "all_empty", "train.epochs=1"), "every transcript is empty")
    lines[0] = keys[0]                              # one empty transcript
    lines[1] = f"{keys[1]} zzz"                      # characters not in the token list
    text.write_text("\n".join(lines) + "\n")
    exp = tmp_path / "some"
    run_train(root, exp, "train.epochs=1")
    log = (exp / "train.log").read_text()
    assert f"1 of {len(keys)} transcripts are empty (e.g. key {keys[0]})" in log
    assert f"mapped to <unk> (e.g. key {keys[1]})" in log


def test_model_dir_misuse_is_one_line(asr_data, tmp_path):
    exp = tmp_path / "exp"
    run_train(asr_data, exp, "train.epochs=1")
    wav = tmp_path / "a.wav"
    import numpy as np
    import soundfile as sf
    sf.write(wav, np.zeros(16000, np.float32), 16000)
    infer = [sys.executable, "-m", "speechkit.bin.main", "infer"]
    proc = subprocess.run(infer + ["kws", "--model", str(exp), str(wav)], text=True,
                          capture_output=True)
    one_line_error(proc, "is a 'asr' model, not 'kws'", "speechkit infer asr")
    (exp / "tokens.txt").rename(exp / "tokens.bak")
    proc = subprocess.run(infer + ["asr", "--model", str(exp), str(wav)], text=True,
                          capture_output=True)
    one_line_error(proc, "tokens.txt is missing")
    (exp / "tokens.bak").rename(exp / "tokens.txt")
    count = len((exp / "tokens.txt").read_text().splitlines())
    with open(exp / "tokens.txt", "a") as f:
        f.write(f"Q {count}\n")  # a valid token list that no longer fits the weights
    proc = subprocess.run(infer + ["asr", "--model", str(exp), str(wav)], text=True,
                          capture_output=True)
    one_line_error(proc, "weights do not fit the network")

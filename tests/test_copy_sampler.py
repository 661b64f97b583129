"""train.copies: one (speechkit.train.batching.CopySampler): one copy of each original
utterance per epoch, drawn from (seed, epoch), grouped by the data dir's utt2uniq."""
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from speechkit.io import write_table
from speechkit.train.batching import CopySampler, copy_groups, make_batches
from test_train import ENV, asr_data, train_cmd  # noqa: F401 (asr_data: fixture)


def perturbed_lengths(n=30):
    """n originals, each with sp0.9- and sp1.1- copies (lengths scaled as speed perturbation
    scales them), and the utt2uniq the perturb scripts write."""
    lengths, uniq = {}, {}
    for i in range(n):
        utt = f"u{i:02d}"
        lengths[utt] = 100 + i
        for factor in (0.9, 1.1):
            copy = f"sp{factor}-{utt}"
            lengths[copy], uniq[copy] = round((100 + i) / factor), utt
    return lengths, uniq


def test_groups_come_from_utt2uniq_and_unlisted_keys_stand_alone():
    lengths, uniq = perturbed_lengths(3)
    lengths["lonely"] = 50
    groups = copy_groups(lengths, uniq)
    assert groups["u01"] == ["u01", "sp0.9-u01", "sp1.1-u01"]
    assert groups["lonely"] == ["lonely"] and len(groups) == 4


def test_each_epoch_holds_exactly_one_copy_of_every_original():
    lengths, uniq = perturbed_lengths()
    sampler = CopySampler(lengths, copy_groups(lengths, uniq), 1000, 8, seed=3)
    for epoch in range(1, 6):
        keys = [k for b in sampler.batches(epoch) for k in b]
        originals = [uniq.get(k, k) for k in keys]
        assert sorted(originals) == sorted(set(originals)) and len(originals) == 30
        for batch in sampler.batches(epoch):   # the frame budget holds as in BucketSampler
            assert max(lengths[k] for k in batch) * len(batch) <= 1000


def test_draws_are_reproducible_vary_by_epoch_and_cover_every_copy():
    lengths, uniq = perturbed_lengths()
    groups = copy_groups(lengths, uniq)
    a = CopySampler(lengths, groups, 1000, 8, seed=3)
    b = CopySampler(lengths, groups, 1000, 8, seed=3)
    assert a.batches(4) == b.batches(4)             # resume replays the same epoch
    assert a.draw(1) != a.draw(2)
    assert a.draw(1) != CopySampler(lengths, groups, 1000, 8, seed=4).draw(1)
    seen = {k for epoch in range(1, 21) for k in a.draw(epoch)}
    assert seen == set(lengths)                      # 20 epochs meet all 90 copies
    per_copy = [sum(f"sp0.9-u{i:02d}" in a.draw(e) for i in range(30)) for e in range(1, 21)]
    assert 4 <= sum(per_copy) / 20 <= 16            # about a third of the picks, not a fixed one


def test_without_copies_it_is_the_plain_bucketing():
    lengths = {f"u{i}": 100 + i for i in range(20)}
    sampler = CopySampler(lengths, copy_groups(lengths, {}), 1000, 8, seed=1)
    assert sorted(map(sorted, sampler.batches(1))) == sorted(
        map(sorted, make_batches(lengths, 1000, 8)))


def copies_dir(root):
    """asr_data's train dir plus a second copy of each utterance and the utt2uniq linking them."""
    src, dst = root / "train", root / "train_copies"
    if dst.exists():
        return dst
    shutil.copytree(src, dst)
    lines = (src / "feats.scp").read_text().splitlines()
    extra = [f"cp-{line}" for line in lines]
    (dst / "feats.scp").write_text("\n".join(sorted(lines + extra)) + "\n")
    for table in ("text", "utt2num_frames", "utt2spk"):
        rows = (src / table).read_text().splitlines()
        (dst / table).write_text("\n".join(sorted(rows + [f"cp-{r}" for r in rows])) + "\n")
    write_table(dst / "utt2uniq", {f"cp-{line.split()[0]}": line.split()[0] for line in lines})
    return dst


def test_training_with_copies_one_uses_one_copy_per_epoch(asr_data, tmp_path):
    train = copies_dir(asr_data)
    cmd = train_cmd(asr_data, tmp_path / "exp", "train.copies=one", "train.epochs=1")
    cmd[cmd.index("--train-data") + 1] = str(train)
    proc = subprocess.run(cmd, text=True, capture_output=True, env=ENV)
    assert proc.returncode == 0, proc.stderr
    log = (tmp_path / "exp" / "train.log").read_text()
    assert "one of 96 copies of each of 48 utterances per epoch" in log


def test_bad_copies_value_is_one_line(asr_data, tmp_path):
    proc = subprocess.run(train_cmd(asr_data, tmp_path / "exp", "train.copies=some"), text=True,
                          capture_output=True, env=ENV)
    assert proc.returncode != 0 and "train.copies must be 'all'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_tasks_with_their_own_sampler_refuse_copies_one():
    from speechkit.errors import SpeechkitError
    from speechkit.tasks.base import Task
    task = SimpleNamespace(config={"task": "enhance", "train": {"copies": "one"}})
    with pytest.raises(SpeechkitError, match="not supported by the enhance task's sampler"):
        Task.every_copy_only(task)
    Task.every_copy_only(SimpleNamespace(config={"task": "enhance", "train": {"copies": "all"}}))


def test_exp_dir_made_before_the_copies_option_is_still_done(asr_data, tmp_path):
    """A config.yaml saved before train.copies existed lacks the key; its run behaved as the
    default (all), so a rerun finds the dir trained instead of calling the config changed."""
    exp = tmp_path / "exp"
    cmd = train_cmd(asr_data, exp, "train.epochs=1")
    assert subprocess.run(cmd, text=True, capture_output=True, env=ENV).returncode == 0
    saved = exp / "config.yaml"
    lines = saved.read_text().splitlines()
    saved.write_text("\n".join(line for line in lines if "copies:" not in line) + "\n")
    again = subprocess.run(cmd, text=True, capture_output=True, env=ENV)
    assert again.returncode == 0 and "already trained" in again.stderr
    other = subprocess.run(cmd + ["train.copies=one"], text=True, capture_output=True, env=ENV)
    assert other.returncode == 1 and "differs from this run's config at train.copies" in other.stderr

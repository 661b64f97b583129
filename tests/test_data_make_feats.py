"""Issue 8 case 1: a make_feats.sh rerun never leaves a feats.scp pointing into replaced arks.

One data dir goes through three runs, as a user would: fbank (over a data dir of the old layout,
with conf/fbank.yaml), a rerun with another fbank config where one job fails, then a rerun with
MFCCs after a data change. After each, every key must read its own features.
"""
import numpy as np

from conftest import REPO, run
from speechkit.data import ops
from speechkit.data.validate import validate
from speechkit.features.config import load_config, read_typed
from speechkit.features.extract import compute
from speechkit.io import AudioTable, load_scp, read_dict

UTILS = REPO / "utils"
CONF = REPO / "speechkit" / "features" / "conf"


def _read_all(data):
    scp = load_scp(data / "feats.scp")
    return {k: np.array(scp[k]) for k in scp}


def _assert_own_features(data, kind):
    """Each key of feats.scp holds the features of its own audio under data/feats.yaml."""
    saved_kind, options = read_typed(data / "feats.yaml")
    assert saved_kind == kind
    feats = _read_all(data)
    audio = AudioTable(data / "wav.scp", sample_rate=16000)
    assert list(feats) == audio.keys()
    for utt, wav, sr in audio.items():
        np.testing.assert_allclose(feats[utt], compute(kind, options, wav, sr), rtol=1e-5, atol=1e-5)
    frames = read_dict(data / "utt2num_frames")
    assert {k: int(v) for k, v in frames.items()} == {k: len(m) for k, m in feats.items()}


def test_reruns_keep_every_scp_consistent(datadir, tmp_path):
    feats_dir, log = tmp_path / "feats", tmp_path / "log"
    make = f"{UTILS}/make_feats.sh --cmd {UTILS}/run.py"
    (datadir / "conf").mkdir()
    (datadir / "conf" / "fbank.yaml").write_text("num_mel_bins: 23\n")  # the old layout

    out = run(f"{make} --nj 1 --type fbank {datadir} {log} {feats_dir}")
    assert "Succeeded creating fbank features" in out.stdout
    assert read_typed(datadir / "feats.yaml") == ("fbank", load_config("fbank", CONF / "fbank.yaml"))
    assert not (datadir / "conf").exists()
    _assert_own_features(datadir, "fbank")
    assert validate(datadir) == []
    ops.subset(datadir, tmp_path / "sub", first=2)   # a copy pointing into the same arks
    saved = {n: (datadir / n).read_bytes() for n in ("feats.scp", "utt2num_frames", "feats.yaml")}
    before = _read_all(datadir)

    # Rerun with 40 mel bins; the second job fails. The old make_feats.sh had replaced job 1's
    # ark by then, under the old feats.scp: its keys read 40-bin features at 80-bin offsets.
    wav_scp = datadir / "wav.scp"
    good = wav_scp.read_text()
    wav_scp.write_text(good.replace(f"{tmp_path}/wav/spkB-001.wav", "false |"))
    (tmp_path / "fbank40.yaml").write_text("num_mel_bins: 40\n")
    out = run(f"{make} --nj 2 --type fbank --feat-config {tmp_path}/fbank40.yaml {datadir} {log} "
              f"{feats_dir}", check=False)
    assert out.returncode != 0 and "(key spkB-001): command failed" in out.stderr
    assert {n: (datadir / n).read_bytes() for n in saved} == saved
    after = _read_all(datadir)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert sorted(p.name for p in feats_dir.iterdir()) == ["raw_fbank_train.v1.1.ark",
                                                           "raw_fbank_train.v1.1.scp"]
    wav_scp.write_text(good)
    assert validate(datadir) == []
    assert validate(tmp_path / "sub") == []

    # The data changes (spkA-000 goes, spkA-001 gets another recording), then a good rerun.
    wav_scp.write_text(good.replace("spkA-001.wav", "spkB-002.wav"))
    for name in ("wav.scp", "text", "utt2spk"):
        lines = (datadir / name).read_text().splitlines()
        (datadir / name).write_text("\n".join(lines[1:]) + "\n")
    (datadir / "spk2utt").write_text("spkA spkA-001 spkA-002\nspkB spkB-000 spkB-001 spkB-002\n")
    run(f"{make} --nj 2 --type mfcc {datadir} {log} {feats_dir}")
    _assert_own_features(datadir, "mfcc")
    assert sorted(p.name for p in feats_dir.iterdir()) == [
        f"raw_mfcc_train.v2.{j}.{e}" for j in (1, 2) for e in ("ark", "scp")]
    assert validate(datadir) == []
    # The copy made from the old features now points at deleted arks: it says so.
    problems = validate(tmp_path / "sub")
    assert any("feats.scp:1 (key spkA-000): cannot open ark" in p for p in problems)

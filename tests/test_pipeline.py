"""End to end, as a user's shell would run it: synth-corpus -> data dirs -> validate ->
make_feats.sh with 2 jobs -> CMVN, then the outputs read back by kaldiio."""
import kaldiio
import numpy as np

from conftest import REPO, run
from speechkit.features.config import read_typed
from speechkit.io import read_dict


def test_corpus_to_cmvn_pipeline(tmp_path):
    utils = REPO / "utils"
    run("speechkit synth-corpus --profile digits --seed 3 --num-speakers 6 --dev-speakers 1 "
        "--test-speakers 1 --utts-per-speaker 4 --nj 2 corpus", cwd=tmp_path)
    run("speechkit prepare-corpus embedded corpus data", cwd=tmp_path)
    for part in ("train", "dev", "test"):
        run(f"{utils}/validate_data_dir.sh --no-feats data/{part}", cwd=tmp_path)
    out = run(f"{utils}/make_feats.sh --nj 2 --cmd {utils}/run.py --type fbank "
              f"data/train exp/make_fbank/train feats", cwd=tmp_path)
    assert "Succeeded creating fbank features for train" in out.stdout
    train = tmp_path / "data" / "train"
    logs = sorted((tmp_path / "exp" / "make_fbank" / "train").glob("make_fbank_train.*.log"))
    assert len(logs) == 2 and all("# Ended (code 0)" in p.read_text() for p in logs)
    run(f"{utils}/validate_data_dir.sh data/train", cwd=tmp_path)
    run(f"{utils}/compute_cmvn_stats.sh data/train", cwd=tmp_path)

    feats = kaldiio.load_scp(str(train / "feats.scp"))
    frames = read_dict(train / "utt2num_frames")
    assert list(feats) == list(read_dict(train / "utt2spk")) and len(feats) == 16
    for utt, mat in feats.items():
        assert mat.shape == (int(frames[utt]), 80) and np.isfinite(mat).all()
    cmvn = kaldiio.load_scp(str(train / "cmvn.scp"))
    assert list(cmvn) == list(read_dict(train / "spk2utt"))
    spk, utts = next(iter(read_dict(train / "spk2utt").items()))
    stacked = np.concatenate([feats[u] for u in utts.split()])
    np.testing.assert_allclose(cmvn[spk][0, :-1], stacked.sum(0), rtol=1e-4)
    assert cmvn[spk][0, -1] == len(stacked)
    assert read_typed(train / "feats.yaml")[0] == "fbank"


def test_make_feats_failure_names_job_and_key(datadir, tmp_path):
    utils = REPO / "utils"
    scp = datadir / "wav.scp"
    scp.write_text(scp.read_text().replace("spkB-001.wav", "gone.wav"))
    out = run(f"{utils}/make_feats.sh --nj 2 {datadir} {tmp_path}/log {tmp_path}/feats", check=False)
    assert out.returncode != 0
    assert "validate_data_dir" in out.stderr and "(key spkB-001)" in out.stderr
    # Past validation (the file vanished afterwards): the job fails, the runner says which.
    run(f"{utils}/validate_data_dir.sh --no-feats --no-text {datadir}", check=False)
    scp.write_text(scp.read_text().replace(f"{tmp_path}/wav/gone.wav", "false |"))
    out = run(f"{utils}/make_feats.sh --nj 2 {datadir} {tmp_path}/log {tmp_path}/feats", check=False)
    assert out.returncode != 0
    assert "1 / 2 failed" in out.stderr and "(key spkB-001): command failed" in out.stderr
    assert not (datadir / "feats.scp").exists()
    assert not list((tmp_path / "feats").glob("*.ark"))[1:]  # only the successful job's ark

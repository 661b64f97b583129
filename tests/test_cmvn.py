"""Kaldi CMVN: stats layout, compute-cmvn-stats per speaker / global, apply-cmvn semantics."""
import kaldiio
import numpy as np
import pytest

from speechkit.bin import apply_cmvn as apply_cmd
from speechkit.bin import compute_cmvn_stats
from speechkit.errors import SpeechkitError
from speechkit.features.cmvn import (FeatureNorm, acc_stats, apply_cmvn, read_stats_file,
                                     write_stats_file)
from speechkit.io import MatrixWriter


def test_stats_layout_hand_worked():
    # Two frames of 2-dim features: sums (1+3, 2+4), count 2; squares (1+9, 4+16), then 0.
    stats = acc_stats(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(stats, [[4, 6, 2], [10, 20, 0]])
    assert stats.dtype == np.float64
    acc_stats(np.array([[5.0, 6.0]]), stats)
    np.testing.assert_array_equal(stats, [[9, 12, 3], [35, 56, 0]])
    # mean (3, 4), var (35/3 - 9, 56/3 - 16) = (8/3, 8/3)
    out = apply_cmvn(np.array([[3.0, 4.0]]), stats, norm_vars=True)
    np.testing.assert_allclose(out, [[0, 0]], atol=1e-7)
    out = apply_cmvn(np.array([[5.0, 4.0]]), stats, norm_vars=True)
    np.testing.assert_allclose(out, [[2 / np.sqrt(8 / 3), 0]], rtol=1e-6)
    np.testing.assert_allclose(apply_cmvn(np.array([[5.0, 4.0]]), stats), [[2, 0]])


def test_feature_norm_global_then_utterance_mean(tmp_path):
    # Stats of the hand-worked example above: mean (3, 4), var (8/3, 8/3).
    stats_file = tmp_path / "global.cmvn"
    write_stats_file(stats_file, acc_stats(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])))
    feats = np.array([[5.0, 4.0], [3.0, 8.0]], dtype=np.float32)
    glob = FeatureNorm(stats_file)
    np.testing.assert_allclose(glob(feats), np.array([[2, 0], [0, 4]]) / np.sqrt(8 / 3), rtol=1e-6)
    # With utt_cmn the utterance mean (4, 6) goes after the global stats: (+-1, -+2) / sd.
    utt = FeatureNorm.from_config({"cmvn": str(stats_file), "utt_cmn": True})
    np.testing.assert_allclose(utt(feats), np.array([[1, -2], [-1, 2]]) / np.sqrt(8 / 3),
                               rtol=1e-6)
    # A constant offset per dimension (a fixed spectral colouring in log-mel) is removed.
    np.testing.assert_allclose(utt(feats + np.array([3.0, -7.0], np.float32)), utt(feats),
                               atol=1e-6)
    assert not FeatureNorm.from_config({"cmvn": None}).utt_cmn
    np.testing.assert_array_equal(FeatureNorm()(feats), feats)


def test_apply_rules():
    stats = acc_stats(np.ones((4, 3)))
    feats = np.full((2, 3), 2.0, dtype=np.float32)
    np.testing.assert_array_equal(apply_cmvn(feats, stats, norm_means=False), feats)
    with pytest.raises(SpeechkitError, match="without means"):
        apply_cmvn(feats, stats, norm_means=False, norm_vars=True)
    with pytest.raises(SpeechkitError, match="insufficient CMVN stats"):
        apply_cmvn(feats, np.zeros((2, 4)))
    with pytest.raises(SpeechkitError, match="expected \\(2, 4\\)"):
        apply_cmvn(feats, np.zeros((2, 5)))
    # Constant features: the variance floor keeps the output finite, as in Kaldi.
    assert np.isfinite(apply_cmvn(feats, stats, norm_vars=True)).all()


@pytest.fixture
def feats(datadir, tmp_path):
    """Random features for the 6 utterances of the datadir fixture, speakers with different offsets."""
    rng = np.random.default_rng(0)
    mats = {}
    for utt in (ln.split()[0] for ln in (datadir / "utt2spk").read_text().splitlines()):
        offset = 5.0 if utt.startswith("spkA") else -3.0
        mats[utt] = (offset + rng.standard_normal((20 + len(mats), 4)) * [1, 2, 3, 4]).astype(np.float32)
    with MatrixWriter(f"ark,scp:{tmp_path}/feats.ark,{tmp_path}/feats.scp") as w:
        for utt, m in mats.items():
            w[utt] = m
    return mats


def speaker_frames(mats, spk):
    return np.concatenate([m for u, m in mats.items() if u.startswith(spk)]).astype(np.float64)


def test_per_speaker_stats_readable_by_kaldiio(datadir, tmp_path, feats):
    assert compute_cmvn_stats.main([f"--spk2utt=ark:{datadir}/spk2utt", f"scp:{tmp_path}/feats.scp",
                                    f"ark,scp:{tmp_path}/cmvn.ark,{tmp_path}/cmvn.scp"]) == 0
    stats = kaldiio.load_scp(str(tmp_path / "cmvn.scp"))
    assert list(stats) == ["spkA", "spkB"]
    for spk in stats:
        x = speaker_frames(feats, spk)
        s = stats[spk]
        assert s.dtype == np.float64 and s.shape == (2, 5)
        np.testing.assert_allclose(s[0], [*x.sum(0), len(x)], rtol=1e-12)
        np.testing.assert_allclose(s[1], [*(x ** 2).sum(0), 0], rtol=1e-12)
    assert b"DM" in (tmp_path / "cmvn.ark").read_bytes()[:20]  # Kaldi's double matrix


def test_apply_per_speaker_normalises_each_speaker(datadir, tmp_path, feats):
    compute_cmvn_stats.main([f"--spk2utt={datadir}/spk2utt", f"scp:{tmp_path}/feats.scp",
                             f"ark,scp:{tmp_path}/cmvn.ark,{tmp_path}/cmvn.scp"])
    assert apply_cmd.main([f"--utt2spk=ark:{datadir}/utt2spk", "--norm-vars=true",
                           f"scp:{tmp_path}/cmvn.scp", f"scp:{tmp_path}/feats.scp",
                           f"ark:{tmp_path}/norm.ark"]) == 0
    out = dict(kaldiio.load_ark(str(tmp_path / "norm.ark")))
    assert out.keys() == feats.keys()
    for spk in ("spkA", "spkB"):
        y = speaker_frames(out, spk)
        np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
        np.testing.assert_allclose(y.var(0), 1, rtol=1e-5)
        x = speaker_frames(feats, spk)  # numpy reference
        np.testing.assert_allclose(y, (x - x.mean(0)) / x.std(0), rtol=1e-5, atol=1e-5)


def test_global_stats_plain_file_and_global_key(tmp_path, feats, capsys):
    scp = f"scp:{tmp_path}/feats.scp"
    assert compute_cmvn_stats.main([scp, str(tmp_path / "global_cmvn")]) == 0
    assert compute_cmvn_stats.main([scp, f"ark:{tmp_path}/g.ark"]) == 0
    bare = kaldiio.load_mat(str(tmp_path / "global_cmvn"))  # Kaldi's bare matrix, no key
    assert list(dict(kaldiio.load_ark(str(tmp_path / "g.ark")))) == ["global"]
    np.testing.assert_array_equal(read_stats_file(tmp_path / "g.ark"), bare)
    x = np.concatenate(list(feats.values())).astype(np.float64)
    np.testing.assert_allclose(bare[0, -1], len(x))
    for stats_arg in (tmp_path / "global_cmvn", tmp_path / "g.ark"):
        assert apply_cmd.main([str(stats_arg), scp, f"ark:{tmp_path}/n.ark"]) == 0
        y = np.concatenate(list(dict(kaldiio.load_ark(str(tmp_path / "n.ark"))).values()))
        np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
        assert not np.allclose(y.var(0), 1)  # means only by default, as Kaldi
    # Per-utterance keys without --utt2spk find no per-speaker stats: a clear error.
    compute_cmvn_stats.main(["--per-utt", scp, f"ark,scp:{tmp_path}/u.ark,{tmp_path}/u.scp"])
    assert apply_cmd.main([f"scp:{tmp_path}/u.scp", scp, f"ark:{tmp_path}/n.ark"]) == 0
    assert apply_cmd.main([f"ark:{tmp_path}/g.ark", scp, f"ark:{tmp_path}/n.ark"]) == 1
    assert "no stats for key spkA-000" in capsys.readouterr().err


def test_stats_file_roundtrip_and_errors(tmp_path):
    stats = acc_stats(np.arange(6.0).reshape(3, 2))
    write_stats_file(tmp_path / "s", stats)
    np.testing.assert_array_equal(read_stats_file(tmp_path / "s"), stats)
    assert [p.name for p in tmp_path.iterdir()] == ["s"]
    with MatrixWriter(f"ark:{tmp_path}/two.ark", dtype=np.float64) as w:
        w["a"], w["b"] = stats, stats
    with pytest.raises(SpeechkitError, match="holds 2 stats entries"):
        read_stats_file(tmp_path / "two.ark")


def test_cli_errors(datadir, tmp_path, feats, capsys):
    scp = f"scp:{tmp_path}/feats.scp"
    assert apply_cmd.main(["--norm-means=false", "--norm-vars=true", "x", scp, "ark:-"]) == 1
    assert compute_cmvn_stats.main([f"--spk2utt={datadir}/spk2utt", scp, "plainfile"]) == 1
    err = capsys.readouterr().err
    assert "--norm-vars true needs --norm-means true" in err and "need a wspecifier" in err
    assert apply_cmd.main(["--norm-vars=perhaps", "x", scp, "ark:-"]) == 1
    assert "expected true or false, got 'perhaps'" in capsys.readouterr().err


@pytest.mark.parametrize("module", [compute_cmvn_stats, apply_cmd])
def test_help(module, capsys):
    with pytest.raises(SystemExit) as e:
        module.main(["--help"])
    assert e.value.code == 0 and "usage: speechkit" in capsys.readouterr().out

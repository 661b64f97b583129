"""Mel-cepstrum matrices against pysptk, WORLD round trip, and `speechkit compute-mcep`."""
import numpy as np
import pysptk
import pytest
import soundfile as sf
from scipy.signal import lfilter

from speechkit.bin import compute_mcep
from speechkit.errors import SpeechkitError
from speechkit.features import mcep, world
from speechkit.io import read_dict, read_matrix_dict

SR = 16000


def synthetic_voice(sr=SR, dur=1.0, f0=(120, 200), formants=(500, 1500, 2500), seed=0):
    """A pulse train with gliding, vibrato F0 through three formant resonators; last 20% noise.

    A full-band vowel-like envelope, so that mel-cepstral distances mean something.
    """
    rng = np.random.default_rng(seed)
    n = int(sr * dur)
    t = np.arange(n) / sr
    freq = np.linspace(*f0, n) * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))
    pulses = np.diff(np.floor(np.cumsum(freq) / sr), prepend=0.0)
    src = np.where(t < 0.8 * dur, pulses, 0.3 * rng.standard_normal(n))
    src = src + 1e-3 * rng.standard_normal(n)
    r = np.exp(-np.pi * 100 / sr)
    for fc in formants:
        src = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / sr), r * r], src)
    return 0.5 * src / np.abs(src).max()


def mcd(a, b):
    """Mean mel-cepstral distortion in dB over frames, c0 excluded."""
    return float(np.mean(10 / np.log(10) * np.sqrt(2 * ((a[:, 1:] - b[:, 1:]) ** 2).sum(1))))


@pytest.fixture(scope="module")
def voice():
    return synthetic_voice()


@pytest.fixture(scope="module")
def envelopes(voice):
    """{fft_size: WORLD spectral envelope of the test voice}."""
    return {n: world.analyze(voice, SR, fft_size=n)[1] for n in (512, 1024, 2048)}


# ---- matrices against pysptk ----

@pytest.mark.parametrize("fft_size", [512, 1024, 2048])
@pytest.mark.parametrize("order", [0, 1, 24, 39, 59])
@pytest.mark.parametrize("alpha", [0.0, 0.41, 0.554, -0.2])
def test_sp2mc_matches_pysptk(envelopes, fft_size, order, alpha):
    sp = envelopes[fft_size]
    expected = pysptk.sp2mc(sp, order, alpha)
    got = mcep.sp2mc(sp, order, alpha)
    assert got.shape == (len(sp), order + 1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-11)


@pytest.mark.parametrize("fft_size", [512, 1024, 2048])
@pytest.mark.parametrize("order", [1, 24, 39])
@pytest.mark.parametrize("alpha", [0.0, 0.41, 0.554])
def test_mc2sp_matches_pysptk(envelopes, fft_size, order, alpha):
    mc = pysptk.sp2mc(envelopes[fft_size], order, alpha)
    expected = pysptk.mc2sp(mc, alpha, fft_size)
    got = mcep.mc2sp(mc, alpha, fft_size)
    assert got.shape == (len(mc), fft_size // 2 + 1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_single_frame_and_cache(envelopes):
    sp = envelopes[1024][100]
    np.testing.assert_allclose(mcep.sp2mc(sp, 39, 0.41), pysptk.sp2mc(sp, 39, 0.41), atol=1e-11)
    first = mcep.sp2mc_matrix(1024, 39, 0.41)
    assert mcep.sp2mc_matrix(1024, 39, 0.41) is first
    assert not first.flags.writeable


def test_freqt_matrix_matches_pysptk():
    c = np.random.default_rng(0).standard_normal(64)
    for out_order in (0, 1, 2, 30, 100):
        np.testing.assert_allclose(mcep.freqt_matrix(63, out_order, 0.42) @ c,
                                   pysptk.freqt(c, out_order, 0.42), atol=1e-12)


def test_default_alpha():
    assert mcep.default_alpha(16000) == pytest.approx(0.41)
    assert mcep.default_alpha(48000) == pytest.approx(0.554)


def test_bad_fft_size():
    with pytest.raises(SpeechkitError, match="fft size 1000"):
        world.resolve_fft_size(SR, 1000)


# ---- WORLD wrappers ----

def test_lf0_convention():
    f0 = np.array([0.0, 100.0, 0.0, 250.0])
    lf0 = world.f0_to_lf0(f0)
    assert lf0.shape == (4, 1)
    assert lf0[0, 0] == 0 and lf0[2, 0] == 0 and lf0[1, 0] == pytest.approx(np.log(100))
    np.testing.assert_allclose(world.lf0_to_f0(lf0), f0)


def test_encode_shapes(voice):
    mc, lf0, bap = world.encode(voice, SR)
    assert mc.dtype == lf0.dtype == bap.dtype == np.float32
    assert mc.shape == (201, 40) and lf0.shape == (201, 1) and bap.shape == (201, 1)
    voiced = (lf0[:, 0] > 0).mean()
    assert 0.6 < voiced < 0.9, voiced  # 80% of the signal is voiced


def test_resynthesis_round_trip(voice):
    mc, lf0, bap = world.encode(voice, SR)
    out = world.synthesize(world.lf0_to_f0(lf0), mc, bap, SR)
    hop = SR * 5 // 1000
    assert abs(len(out) - len(voice)) <= hop
    mc2, lf02, _ = world.encode(out, SR)
    n = min(len(mc), len(mc2))
    voiced = lf0[:n, 0] > 0
    resynth = mcd(mc[:n][voiced], mc2[:n][voiced])
    other = world.encode(synthetic_voice(f0=(200, 150), formants=(800, 1200, 3000), seed=1), SR)[0]
    assert resynth < 2.5, resynth
    assert resynth < mcd(mc, other) / 3
    assert np.corrcoef(lf0[:n, 0], lf02[:n, 0])[0, 1] > 0.9


# ---- the subcommand ----

@pytest.fixture
def data_dir(tmp_path):
    """A wav.scp of two 16 kHz utterances and one 8 kHz one (in bad.scp)."""
    wavs = {"utt1": synthetic_voice(), "utt2": synthetic_voice(dur=0.6, f0=(200, 150), seed=1)}
    lines = []
    for key, wav in wavs.items():
        sf.write(tmp_path / f"{key}.wav", wav, SR, subtype="PCM_16")
        lines.append(f"{key} {tmp_path / key}.wav\n")
    (tmp_path / "wav.scp").write_text("".join(lines))
    sf.write(tmp_path / "low.wav", synthetic_voice(sr=8000), 8000, subtype="PCM_16")
    (tmp_path / "bad.scp").write_text(lines[0] + f"utt3 {tmp_path}/low.wav\n")
    return tmp_path


def _wspecs(d, name):
    return [f"ark,scp:{d}/{name}.{kind}.ark,{d}/{name}.{kind}.scp" for kind in ("mcep", "lf0", "bap")]


def _read_sets(d, name):
    return [read_matrix_dict(f"scp:{d}/{name}.{kind}.scp") for kind in ("mcep", "lf0", "bap")]


def test_cli_writes_three_feature_sets(data_dir):
    rc = compute_mcep.main([f"scp:{data_dir}/wav.scp", *_wspecs(data_dir, "out"),
                            "--write-utt2num-frames", str(data_dir / "utt2num_frames")])
    assert rc == 0
    mc, lf0, bap = _read_sets(data_dir, "out")
    assert list(mc) == list(lf0) == list(bap) == ["utt1", "utt2"]
    frames = read_dict(data_dir / "utt2num_frames")
    for key in mc:
        assert mc[key].shape == (int(frames[key]), 40)
        assert lf0[key].shape == (int(frames[key]), 1)
        assert bap[key].shape == (int(frames[key]), 1)
    assert frames == {"utt1": "201", "utt2": "121"}
    audio, _ = sf.read(data_dir / "utt1.wav")
    np.testing.assert_allclose(mc["utt1"], world.encode(audio, SR)[0], atol=1e-5)


def test_cli_harvest_order_and_segments(data_dir):
    (data_dir / "segments").write_text("utt1-a utt1 0.0 0.5\nutt1-b utt1 0.5 -1\n")
    rc = compute_mcep.main(["--f0-method", "harvest", "--order", "24", "--alpha", "0.42",
                            "--segments", str(data_dir / "segments"),
                            f"scp:{data_dir}/wav.scp", *_wspecs(data_dir, "hv")])
    assert rc == 0
    mc, lf0, bap = _read_sets(data_dir, "hv")
    assert list(mc) == ["utt1-a", "utt1-b"]
    assert [m.shape for m in mc.values()] == [(101, 25), (101, 25)]
    assert [len(m) for m in lf0.values()] == [len(m) for m in bap.values()] == [101, 101]
    assert (lf0["utt1-a"] > 0).mean() > 0.8  # the first half is voiced


def test_cli_wrong_sample_rate_names_key(data_dir, capsys):
    rc = compute_mcep.main([f"scp:{data_dir}/bad.scp", *_wspecs(data_dir, "bad")])
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "(key utt3)" in err and "8000" in err
    assert not list(data_dir.glob("bad.*.scp"))  # nothing half-written is left behind
    assert not list(data_dir.glob("bad.*.ark*"))


def test_cli_empty_audio_names_key(data_dir, capsys):
    sf.write(data_dir / "empty.wav", np.zeros(0), SR, subtype="PCM_16")
    (data_dir / "empty.scp").write_text(f"e1 {data_dir}/empty.wav\n")
    rc = compute_mcep.main([f"scp:{data_dir}/empty.scp", *_wspecs(data_dir, "e")])
    assert rc == 1
    err = capsys.readouterr().err
    assert "(key e1)" in err and "empty audio" in err


@pytest.mark.parametrize("args, message", [
    (["--fft-size", "1000"], "power of two"),
    (["--alpha", "1.5"], "--alpha"),
])
def test_cli_bad_options(data_dir, capsys, args, message):
    rc = compute_mcep.main([*args, f"scp:{data_dir}/wav.scp", *_wspecs(data_dir, "x")])
    assert rc == 1
    assert message in capsys.readouterr().err


def test_cli_two_stdout_writers_refused(data_dir, capsys):
    rc = compute_mcep.main([f"scp:{data_dir}/wav.scp", "ark:-", "ark:-", "ark:/dev/null"])
    assert rc == 1
    assert "stdout" in capsys.readouterr().err


def test_help_documents_every_option():
    for action in compute_mcep.get_parser()._actions:
        assert action.help, action.dest

"""speechkit.features and compute-feats: Kaldi-exact fbank/MFCC, librosa-exact PCEN, configs, errors."""
import re

import kaldi_native_fbank as knf
import kaldiio
import librosa
import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from conftest import REPO, run, tone, write_tone
from speechkit.bin import compute_feats, copy_feats, feat_to_dim, feat_to_len
from speechkit.errors import SpeechkitError
from speechkit.features import extract, kaldi
from speechkit.features.config import KINDS, load_config, option_names, read_config_file, resolve
from speechkit.features.pcen import pcen, pcen_fbank, smoothing_coef

SR = 16000


@pytest.fixture(scope="module")
def speechlike():
    """1.37 s of tones in noise on the int16 grid, as a wav file would hold it."""
    rng = np.random.default_rng(1)
    t = np.arange(int(1.37 * SR)) / SR
    wav = 0.3 * np.sin(2 * np.pi * 440 * t) * np.sin(2 * np.pi * 3 * t) \
        + 0.1 * np.sin(2 * np.pi * 2500 * t) + 0.03 * rng.standard_normal(len(t))
    return (np.round(wav * 32767) / 32768).astype(np.float32)


def knf_features(opts, wav):
    comp = knf.OnlineFbank(opts) if isinstance(opts, knf.FbankOptions) else knf.OnlineMfcc(opts)
    comp.accept_waveform(SR, (wav * 32768).tolist())
    comp.input_finished()
    return np.stack([comp.get_frame(i) for i in range(comp.num_frames_ready)])


def knf_options(cls, ours):
    """kaldi-native-fbank options with the same settings as our options dict."""
    opts = cls()
    opts.frame_opts.dither = 0.0
    for name, value in ours.items():
        if name in ("snip_edges", "window_type", "preemphasis_coefficient"):
            setattr(opts.frame_opts, {"preemphasis_coefficient": "preemph_coeff"}.get(name, name), value)
        elif name in ("num_mel_bins", "low_freq", "high_freq"):
            setattr(opts.mel_opts, {"num_mel_bins": "num_bins"}.get(name, name), value)
        else:
            setattr(opts, name, value)
    return opts


@pytest.mark.parametrize("options", [
    {},
    {"num_mel_bins": 80, "use_energy": True},
    {"num_mel_bins": 40, "snip_edges": False, "low_freq": 60, "high_freq": -400},
    {"window_type": "hamming", "preemphasis_coefficient": 0.0, "num_mel_bins": 64},
])
def test_fbank_matches_kaldi_native_fbank(speechlike, options):
    ours = kaldi.fbank(speechlike, options)
    ref = knf_features(knf_options(knf.FbankOptions, options), speechlike)
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-3


@pytest.mark.parametrize("options", [{}, {"num_mel_bins": 40, "num_ceps": 40, "use_energy": False}])
def test_mfcc_matches_kaldi_native_fbank(speechlike, options):
    ours = kaldi.mfcc(speechlike, options)
    ref = knf_features(knf_options(knf.MfccOptions, options), speechlike)
    assert ours.shape == ref.shape
    # Liftering multiplies high cepstra by up to 1 + L/2; compare relative to each column's scale.
    assert (np.abs(ours - ref) / np.abs(ref).max(axis=0)).max() < 1e-4


def test_spectrogram_shape_and_energy(speechlike):
    spec = kaldi.spectrogram(speechlike)
    log_energy = kaldi.mfcc(speechlike)[:, 0]  # MFCC's C0 is the same raw log energy
    assert spec.shape == (135, 257)
    np.testing.assert_allclose(spec[:, 0], log_energy, rtol=1e-5)


@pytest.mark.parametrize("init", ["librosa", "first", "zero"])
@pytest.mark.parametrize("params", [{}, {"gain": 0.8, "bias": 10.0, "power": 0.25, "eps": 1e-3},
                                    {"power": 0.0}])
def test_pcen_matches_librosa(init, params):
    energies = np.random.default_rng(2).gamma(0.5, 1e5, size=(300, 40))
    s = smoothing_coef(0.06, 100.0)
    zi = {"librosa": None, "first": (1 - s) * energies[:1].T, "zero": np.zeros((40, 1))}[init]
    ref = librosa.pcen(energies.T, sr=SR, hop_length=160, time_constant=0.06, zi=zi, **params).T
    np.testing.assert_allclose(pcen(energies, s, init=init, **params), ref, rtol=1e-10, atol=1e-12)


def test_pcen_initial_states():
    energies = np.full((5, 2), 7.0)
    s = 0.25
    m0 = {"librosa": s * 7 + (1 - s), "first": 7.0, "zero": s * 7}
    for init, m in m0.items():
        expected = (7 / (1e-6 + m) ** 0.98 + 2) ** 0.5 - 2 ** 0.5
        assert pcen(energies, s, init=init)[0, 0] == pytest.approx(expected)
    assert librosa.pcen(energies.T, b=s)[0, 0] == pytest.approx(pcen(energies, s)[0, 0])
    assert np.allclose(scipy.signal.lfilter_zi([s], [1, s - 1]), 1 - s)


def test_pcen_features_are_librosa_pcen_of_fbank_energies(speechlike):
    opts = {"num_mel_bins": 40, "time_constant": 0.2, "gain": 0.9}
    ours = pcen_fbank(speechlike, opts)
    energies = kaldi.fbank(speechlike, {"num_mel_bins": 40, "use_log_fbank": False})
    ref = librosa.pcen(energies.T.astype(np.float64), sr=SR, hop_length=160, time_constant=0.2,
                       gain=0.9).T
    assert ours.dtype == np.float32 and ours.shape == (135, 40)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


# --- configs -------------------------------------------------------------------------------

def test_yaml_and_kaldi_conf_agree(tmp_path):
    (tmp_path / "f.yaml").write_text("num_mel_bins: 80\nuse_energy: true\nhigh_freq: -400\n"
                                     "window_type: hamming\n")
    (tmp_path / "f.conf").write_text("# Kaldi style\n--num-mel-bins=80\n--use-energy  # bare flag\n"
                                     "\n--high-freq=-400\n--window-type=hamming\n")
    yaml_opts = load_config("fbank", tmp_path / "f.yaml")
    assert yaml_opts == load_config("fbank", tmp_path / "f.conf")
    assert yaml_opts["num_mel_bins"] == 80 and yaml_opts["use_energy"] is True
    assert yaml_opts["dither"] == 0.0 and yaml_opts["energy_floor"] == 0.0  # ours / Kaldi's
    assert load_config("fbank", tmp_path / "f.yaml", {"num_mel_bins": "40"})["num_mel_bins"] == 40
    assert resolve("mfcc")["use_energy"] is True and resolve("fbank")["use_energy"] is False
    every_option = set().union(*(resolve(kind) for kind in KINDS))
    assert every_option == set(option_names())  # each one documented in --help


def test_sample_confs_load():
    conf = REPO / "speechkit" / "features" / "conf"
    for kind in ("fbank", "mfcc", "pcen"):
        assert load_config(kind, conf / f"{kind}.yaml")["sample_frequency"] == 16000


@pytest.mark.parametrize("kind,text,message", [
    ("fbank", "num_mel_bin: 80\n", "f.yaml: unknown option 'num_mel_bin' for --type fbank"),
    ("fbank", "num_ceps: 20\n", "unknown option 'num_ceps' for --type fbank; it applies to --type mfcc"),
    ("fbank", "num_mel_bins: eighty\n", "f.yaml: option num_mel_bins: expected an integer"),
    ("fbank", "use_energy: maybe\n", "option use_energy: expected true or false"),
    ("fbank", "window_type: kaiser\n", "'kaiser' is not one of povey"),
    ("mfcc", "num_ceps: 30\n", "num_ceps 30 > num_mel_bins 23"),
    ("fbank", "allow_downsample: true\n", "speechkit never resamples"),
    ("fbank", "high_freq: 9000\n", "high_freq <= Nyquist"),
    ("pcen", "use_log_fbank: false\n", "unknown option 'use_log_fbank' for --type pcen"),
    ("pcen", "pcen_init: ones\n", "'ones' is not one of librosa|first|zero"),
    ("fbank", "- 1\n", "expected a mapping"),
])
def test_config_errors_name_option_and_file(tmp_path, kind, text, message):
    (tmp_path / "f.yaml").write_text(text)
    with pytest.raises(SpeechkitError, match=message.replace("|", r"\|")):
        load_config(kind, tmp_path / "f.yaml")


def test_kaldi_conf_errors(tmp_path):
    (tmp_path / "f.conf").write_text("--num-mel-bins=80\nnum-ceps=3\n")
    with pytest.raises(SpeechkitError, match=r"f.conf:2: expected one `--name=value`"):
        read_config_file(tmp_path / "f.conf")
    (tmp_path / "g.conf").write_text("--num-mel-bins=80\n--frobnicate=1\n")
    with pytest.raises(SpeechkitError, match=r"g.conf: unknown option 'frobnicate'"):
        load_config("fbank", tmp_path / "g.conf")
    with pytest.raises(SpeechkitError, match="does not exist"):
        load_config("fbank", tmp_path / "nope.yaml")


# --- compute-feats -------------------------------------------------------------------------

def test_compute_feats_writes_kaldi_ark_scp(datadir, tmp_path):
    ark, scp, u2nf = tmp_path / "f.ark", tmp_path / "f.scp", tmp_path / "utt2num_frames"
    rc = compute_feats.main(["--type", "fbank", "--num-mel-bins", "40",
                             "--write-utt2num-frames", f"ark,t:{u2nf}", f"scp:{datadir}/wav.scp",
                             f"ark,scp:{ark},{scp}"])
    assert rc == 0
    feats = kaldiio.load_scp(str(scp))
    assert list(feats) == [ln.split()[0] for ln in (datadir / "wav.scp").read_text().splitlines()]
    for utt, path in (ln.split() for ln in (datadir / "wav.scp").read_text().splitlines()):
        wav, _ = sf.read(path, dtype="float32")
        np.testing.assert_array_equal(feats[utt], kaldi.fbank(wav, {"num_mel_bins": 40}))
    assert u2nf.read_text().splitlines()[0] == f"spkA-000 {len(feats['spkA-000'])}"


@pytest.mark.parametrize("kind,dim", [("mfcc", 13), ("pcen", 40), ("spectrogram", 257)])
def test_compute_feats_types(datadir, tmp_path, kind, dim):
    conf = REPO / "speechkit" / "features" / "conf" / f"{kind}.yaml"
    args = ["--config", str(conf)] if conf.exists() else []
    assert compute_feats.main(["--type", kind, *args, f"scp:{datadir}/wav.scp",
                               f"ark:{tmp_path}/f.ark"]) == 0
    mats = dict(kaldiio.load_ark(str(tmp_path / "f.ark")))
    assert len(mats) == 6 and all(m.shape[1] == dim and m.dtype == np.float32 for m in mats.values())


def test_compute_feats_with_segments(tmp_path):
    write_tone(tmp_path / "rec.wav", seconds=1.0)
    (tmp_path / "wav.scp").write_text(f"rec {tmp_path}/rec.wav\n")
    (tmp_path / "segments").write_text("rec-a rec 0.0 0.5\nrec-b rec 0.25 -1\n")
    assert compute_feats.main(["--segments", str(tmp_path / "segments"), f"scp:{tmp_path}/wav.scp",
                               f"ark:{tmp_path}/f.ark"]) == 0
    mats = dict(kaldiio.load_ark(str(tmp_path / "f.ark")))
    wav, _ = sf.read(tmp_path / "rec.wav", dtype="float32")
    np.testing.assert_array_equal(mats["rec-b"], kaldi.fbank(wav[4000:]))
    assert mats["rec-a"].shape == (48, 23)


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("speechkit compute-feats: error: "), err
    return err[0]


@pytest.mark.parametrize("entry,message", [
    ("{d}/a8k.wav", r"wav.scp \(key bad\): sample rate 8000 Hz, expected 16000 Hz"),
    ("{d}/stereo.wav", r"wav.scp \(key bad\): 2 channels, expected 1"),
    ("sox-nope {d}/a.wav - |", r"wav.scp \(key bad\): command failed with code 127"),
    ("{d}/short.wav", r"wav.scp \(key bad\): 0.010 s of audio is shorter than one 25 ms frame"),
])
def test_bad_utterance_is_one_error_line_naming_key(tmp_path, capsys, entry, message):
    write_tone(tmp_path / "a.wav")
    write_tone(tmp_path / "a8k.wav", sr=8000)
    write_tone(tmp_path / "stereo.wav", channels=2)
    write_tone(tmp_path / "short.wav", seconds=0.01)
    (tmp_path / "wav.scp").write_text(f"a {tmp_path}/a.wav\nbad {entry.format(d=tmp_path)}\n")
    out = tmp_path / "out"
    rc = compute_feats.main([f"scp:{tmp_path}/wav.scp", f"ark,scp:{out}.ark,{out}.scp"])
    assert rc == 1
    assert re.search(message, _one_line_error(capsys))
    assert not list(tmp_path.glob("out*"))


def test_min_duration_skips_short_utterances(tmp_path):
    write_tone(tmp_path / "a.wav")
    write_tone(tmp_path / "short.wav", seconds=0.01)
    (tmp_path / "wav.scp").write_text(f"a {tmp_path}/a.wav\nb {tmp_path}/short.wav\n")
    assert compute_feats.main(["--min-duration=0.1", f"scp:{tmp_path}/wav.scp",
                               f"ark:{tmp_path}/f.ark"]) == 0
    assert list(dict(kaldiio.load_ark(str(tmp_path / "f.ark")))) == ["a"]


def test_config_error_from_cli_names_file(tmp_path, capsys):
    (tmp_path / "fbank.conf").write_text("--num-mel-bins=80\n--no-such-thing=1\n")
    rc = compute_feats.main(["--config", str(tmp_path / "fbank.conf"), "scp:x", "ark:-"])
    assert rc == 1 and "fbank.conf: unknown option 'no_such_thing'" in _one_line_error(capsys)


def test_compute_rejects_rate_mismatch_and_stereo():
    with pytest.raises(SpeechkitError, match="sample rate 8000 Hz, but the feature config"):
        extract.compute("fbank", {}, tone(), 8000)
    with pytest.raises(SpeechkitError, match="expected mono audio"):
        extract.compute("fbank", {}, np.stack([tone(), tone()]), SR)
    assert extract.compute("mfcc", {"num_ceps": 5}, tone(), SR).shape == (48, 5)


@pytest.mark.parametrize("failure,rc", [(RuntimeError, None), (SpeechkitError, 1)])
def test_job_dying_midway_leaves_previous_outputs(datadir, tmp_path, monkeypatch, failure, rc):
    ark, scp = tmp_path / "feats" / "raw.1.ark", tmp_path / "feats" / "raw.1.scp"
    args = [f"scp:{datadir}/wav.scp", f"ark,scp:{ark},{scp}"]
    assert compute_feats.main(args) == 0
    before = ark.read_bytes(), scp.read_text()
    calls = []

    def dies_on_third(waveform, options):
        calls.append(1)
        if len(calls) == 3:
            raise failure("killed")
        return kaldi.fbank(waveform, options)
    monkeypatch.setitem(extract.FEATURES, "fbank", dies_on_third)
    if rc is None:
        with pytest.raises(failure):
            compute_feats.main(args)
    else:
        assert compute_feats.main(args) == rc
    assert (ark.read_bytes(), scp.read_text()) == before
    assert sorted(p.name for p in ark.parent.iterdir()) == ["raw.1.ark", "raw.1.scp"]


def test_copy_feats_and_shapes(datadir, tmp_path, capsys):
    assert compute_feats.main([f"scp:{datadir}/wav.scp", f"ark,scp:{tmp_path}/f.ark,{tmp_path}/f.scp"]) == 0
    assert copy_feats.main([f"scp:{tmp_path}/f.scp", f"ark,t:{tmp_path}/f.txt"]) == 0
    a = dict(kaldiio.load_ark(str(tmp_path / "f.ark")))
    b = dict(kaldiio.load_ark(str(tmp_path / "f.txt")))
    assert a.keys() == b.keys() and all(np.allclose(a[k], b[k], rtol=1e-6) for k in a)
    capsys.readouterr()
    feat_to_dim.main([f"scp:{tmp_path}/f.scp"])
    feat_to_len.main([f"scp:{tmp_path}/f.scp"])
    feat_to_len.main([f"scp:{tmp_path}/f.scp", "ark,t:-"])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "23" and out[1] == str(sum(len(m) for m in a.values()))
    assert out[2] == f"spkA-000 {len(a['spkA-000'])}"


def test_shell_pipe(datadir, tmp_path):
    sk = "python -m speechkit.bin.main"
    proc = run(f"set -o pipefail; {sk} compute-feats --type mfcc scp:{datadir}/wav.scp ark:- "
               f"| {sk} copy-feats ark:- ark,t:- > {tmp_path}/f.txt", cwd=REPO)
    assert "computed mfcc features of 6 utterances" in proc.stderr
    mats = dict(kaldiio.load_ark(str(tmp_path / "f.txt")))
    wav, _ = sf.read(str(datadir.parent.parent / "wav" / "spkB-002.wav"), dtype="float32")
    np.testing.assert_allclose(mats["spkB-002"], kaldi.mfcc(wav), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("module", [compute_feats, copy_feats, feat_to_dim, feat_to_len])
def test_help(module, capsys):
    with pytest.raises(SystemExit) as e:
        module.main(["--help"])
    assert e.value.code == 0 and "usage: speechkit" in capsys.readouterr().out

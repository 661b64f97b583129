"""Voice diversity: `speechkit wav-voice` and `perturb-data-dir voice` (speechkit.data.voice).

References are independent of the code: a pulse train of known F0 through a resonance of known
frequency, measured back by autocorrelation and an LPC envelope; WORLD called directly through
pyworld; band energies from an FFT; the data dir read back through AudioTable so the pipes run.
Signals are short (0.6 s) to keep the file fast.
"""
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.signal as ss
import soundfile as sf

from conftest import REPO, run, write_tone
from speechkit.bin import perturb_data_dir, wav_voice
from speechkit.data.validate import validate
from speechkit.data.voice import change_voice, eq_gain
from speechkit.io import read_dict
from speechkit.io.audio import AudioTable

SR = 16000
UTILS = REPO / "utils" / "data"


@pytest.fixture(autouse=True)
def _speechkit_on_path(monkeypatch):
    """The pipes in wav.scp call `speechkit`, as in a recipe that sourced path.sh."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")


def _vowel(seconds=0.6, f0=100.0, formant=1000.0, bandwidth=130.0):
    """A pulse train at f0 Hz through a two-pole resonance at `formant` Hz: a vowel-like signal
    whose pitch and formant are known."""
    x = np.zeros(int(seconds * SR))
    x[::int(SR / f0)] = 1.0
    r = np.exp(-np.pi * bandwidth / SR)
    y = ss.lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * formant / SR), r * r], x)
    return 0.3 * y / np.abs(y).max()


def _world_only(x):
    """WORLD analysis and synthesis straight through pyworld, no change: the reference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyworld
    f0, t = pyworld.dio(x, SR, frame_period=5.0)
    f0 = pyworld.stonemask(x, f0, t, SR)
    sp, ap = pyworld.cheaptrick(x, f0, t, SR), pyworld.d4c(x, f0, t, SR)
    return pyworld.synthesize(f0, sp, ap, SR, 5.0)[:len(x)]


def _middle(y):
    """The middle half, windowed: away from the ends."""
    mid = y[len(y) // 4: len(y) // 4 + len(y) // 2]
    return mid * np.hanning(len(mid))


def _f0_hz(y, fmin=60.0, fmax=500.0):
    """F0 from the autocorrelation peak of the middle half, refined by a parabola."""
    mid = _middle(y)
    ac = np.correlate(mid, mid, "full")[len(mid) - 1:]
    lo, hi = int(SR / fmax), int(SR / fmin)
    lag = lo + int(np.argmax(ac[lo:hi]))
    a, b, c = ac[lag - 1: lag + 2]
    return SR / (lag + 0.5 * (a - c) / (a - 2 * b + c))


def _formant_hz(y, lo=400.0, hi=3000.0, order=10):
    """The highest peak between lo and hi Hz of an LPC envelope (autocorrelation method)."""
    from scipy.linalg import solve_toeplitz
    mid = _middle(y)
    r = np.correlate(mid, mid, "full")[len(mid) - 1: len(mid) + order]
    a = np.concatenate([[1.0], -solve_toeplitz(r[:order], r[1:order + 1])])
    freqs, h = ss.freqz([1.0], a, worN=8192, fs=SR)
    band = (freqs >= lo) & (freqs <= hi)
    return float(freqs[band][np.argmax(np.abs(h[band]))])


def _band_db(y, lo, hi):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2  # a window: no edge leakage
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    return 10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].sum() + 1e-30)


# ---- the signal processing -----------------------------------------------------------------

def test_identity_effects_are_the_plain_world_resynthesis():
    x = _vowel()
    y = change_voice(x, SR, warp=1.0, f0_shift=0.0, tilt=0.0)
    ref = _world_only(x)
    assert len(y) == len(x)
    assert np.corrcoef(y[:len(ref)], ref)[0, 1] > 0.99
    assert np.isclose(np.sqrt(np.mean(y ** 2)), np.sqrt(np.mean(x ** 2)))  # RMS kept
    assert np.array_equal(change_voice(x, SR), x)  # no effect asked: no WORLD, untouched


def test_octave_up_doubles_the_f0():
    x = _vowel(f0=100.0)
    assert abs(_f0_hz(x) - 100) < 3  # the estimator reads the input right
    assert abs(_f0_hz(change_voice(x, SR, f0_shift=12.0)) / 200 - 1) < 0.03


def test_warp_moves_the_formant_up_by_the_factor():
    x = _vowel(formant=1000.0)
    plain, warped = (_formant_hz(change_voice(x, SR, warp=w)) for w in (1.0, 1.1))
    assert abs(plain - 1000) < 60
    assert abs(warped / plain - 1.1) < 0.03
    assert abs(_formant_hz(change_voice(x, SR, warp=0.9)) / plain - 0.9) < 0.03


def test_tilt_is_db_per_octave():
    x = _vowel()
    flat, tilted = (change_voice(x, SR, tilt=t) for t in (0.0, -6.0))

    def slope(y):  # 4 kHz band over 500 Hz band, 3 octaves apart
        return _band_db(y, 3600, 4400) - _band_db(y, 450, 550)

    assert abs(slope(tilted) - slope(flat) + 18) < 2  # -6 dB/octave * 3 octaves


def test_random_eq_is_smooth_bounded_and_seeded():
    freqs = np.linspace(0, SR / 2, 513)
    db = 10 * np.log10(eq_gain(freqs, 7, 6.0))
    assert np.abs(db).max() <= 6.0 + 1e-9 and np.ptp(db) > 2
    assert np.abs(np.diff(db)).max() < 1.5  # smooth: no jump from one bin to the next
    assert np.array_equal(db, 10 * np.log10(eq_gain(freqs, 7, 6.0)))
    assert not np.allclose(db, 10 * np.log10(eq_gain(freqs, 8, 6.0)))


def test_telephone_band_alone_is_only_a_band_pass(tmp_path):
    noise = 0.1 * np.random.default_rng(0).standard_normal(SR)
    sf.write(str(tmp_path / "n.wav"), noise, SR, subtype="PCM_16")
    assert wav_voice.main(["--band", "telephone", str(tmp_path / "n.wav"),
                           str(tmp_path / "t.wav")]) == 0
    x, _ = sf.read(str(tmp_path / "n.wav"))
    y, rate = sf.read(str(tmp_path / "t.wav"))
    assert rate == SR and len(y) == len(x)
    for lo, hi in ((0, 100), (4500, 8000)):
        assert _band_db(y, lo, hi) - _band_db(x, lo, hi) < -30
    assert abs(_band_db(y, 600, 3000) - _band_db(x, 600, 3000)) < 0.3
    # No WORLD: the waveform is the input's, less what lies outside the band (an FFT mask).
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    masked = np.fft.irfft(spectrum * ((freqs > 300) & (freqs < 3400)), len(x))
    assert np.corrcoef(y, masked)[0, 1] > 0.97


def test_every_effect_through_a_pipe_keeps_rate_and_length(tmp_path):
    rate, n = 22050, 7777  # another rate and an odd length
    sf.write(str(tmp_path / "a.wav"), 0.5 * _vowel()[:n], rate, subtype="PCM_16")
    run(f"cat {tmp_path}/a.wav | speechkit wav-voice --warp 0.9 --f0-shift -3 --tilt 2 "
        f"--eq-seed 1 --eq-db 4 --band telephone - - > {tmp_path}/b.wav")
    y, out_rate = sf.read(str(tmp_path / "b.wav"))
    assert out_rate == rate and len(y) == n and np.abs(y).max() > 0.01


def test_world_output_keeps_the_input_rms(tmp_path):
    sf.write(str(tmp_path / "a.wav"), _vowel(), SR, subtype="PCM_16")
    wav_voice.main(["--warp", "1.12", "--tilt", "3", str(tmp_path / "a.wav"),
                    str(tmp_path / "b.wav")])
    x, y = sf.read(str(tmp_path / "a.wav"))[0], sf.read(str(tmp_path / "b.wav"))[0]
    assert len(y) == len(x)
    assert abs(np.sqrt(np.mean(y ** 2)) / np.sqrt(np.mean(x ** 2)) - 1) < 0.01


# ---- the data-dir copy ---------------------------------------------------------------------

@pytest.fixture
def src(tmp_path):
    """2 speakers x 2 utterances of 0.3 s, with utt2dur."""
    d = tmp_path / "src"
    d.mkdir()
    utts = [f"{spk}-{i}" for spk in ("spkA", "spkB") for i in range(2)]
    for k, utt in enumerate(utts):
        write_tone(tmp_path / f"{utt}.wav", seconds=0.3, seed=k)
    (d / "wav.scp").write_text("".join(f"{u} {tmp_path}/{u}.wav\n" for u in utts))
    (d / "utt2spk").write_text("".join(f"{u} {u[:4]}\n" for u in utts))
    (d / "text").write_text("".join(f"{u} yes\n" for u in utts))
    (d / "utt2dur").write_text("".join(f"{u} 0.3\n" for u in utts))
    return d


def _options(voice_line):
    """'warp=1.0123 f0-shift=-2.50 ...' -> '--warp 1.0123 --f0-shift -2.50 ...'."""
    return " ".join(f"--{kv.replace('=', ' ')}" for kv in voice_line.split())


def test_voice_dir_one_voice_per_speaker(src, tmp_path):
    dest = tmp_path / "vc"
    out = run(f"{UTILS}/perturb_data_dir_voice.sh --telephone-prob 1 {src} {dest}")
    assert "Successfully validated" in out.stderr
    voices = read_dict(dest / "spk2voice")
    assert list(voices) == ["vc1-spkA", "vc1-spkB"] and voices["vc1-spkA"] != voices["vc1-spkB"]
    for line in voices.values():
        v = dict(kv.split("=") for kv in line.split())
        assert 0.88 <= float(v["warp"]) <= 1.12 and -4 <= float(v["f0-shift"]) <= 4
        assert -3 <= float(v["tilt"]) <= 3 and v["band"] == "telephone" and v["eq-db"] == "6"
    wav_scp = read_dict(dest / "wav.scp")
    for utt in ("spkA-0", "spkA-1", "spkB-0", "spkB-1"):  # both of a speaker's: one voice
        assert wav_scp[f"vc1-{utt}"] == (f"speechkit wav-voice {_options(voices['vc1-' + utt[:4]])}"
                                         f" {tmp_path}/{utt}.wav - |")
    assert read_dict(dest / "utt2dur")["vc1-spkB-1"] == "0.3"
    assert read_dict(dest / "utt2uniq")["vc1-spkB-1"] == "spkB-1"
    assert validate(dest, no_feats=True) == []
    wav, rate = AudioTable(dest / "wav.scp")["vc1-spkA-0"]
    assert rate == SR and len(wav) == 0.3 * SR and np.abs(wav).max() > 0


def test_voice_dir_after_a_pipe_reproducible_and_seeded(src, tmp_path):
    files = read_dict(src / "wav.scp")
    piped = dict(files, **{"spkA-0": f"speechkit wav-volume --scale 0.5 {files['spkA-0']} - |"})
    (src / "wav.scp").write_text("".join(f"{k} {v}\n" for k, v in piped.items()))
    (src / "utt2clean").write_text("".join(f"{k} {v}\n" for k, v in files.items()))
    args = ["voice", "--f0-range", "-2,2", "--telephone-prob", "0", "--eq-db", "0"]
    for name, extra in (("a", []), ("b", []), ("c", ["--prefix", "vc2"]), ("d", ["--seed", "1"])):
        assert perturb_data_dir.main(args + extra + [str(src), str(tmp_path / name)]) == 0
    entry = read_dict(tmp_path / "a" / "wav.scp")["vc1-spkA-0"]
    stage = f"speechkit wav-voice {_options(read_dict(tmp_path / 'a' / 'spk2voice')['vc1-spkA'])}"
    assert entry == (f"speechkit wav-volume --scale 0.5 {tmp_path}/spkA-0.wav - | {stage} - - |")
    assert "band" not in entry and "eq" not in entry
    assert read_dict(tmp_path / "a" / "utt2clean")["vc1-spkA-1"].startswith(stage + " ")
    assert (tmp_path / "b" / "wav.scp").read_text() == (tmp_path / "a" / "wav.scp").read_text()
    a = read_dict(tmp_path / "a" / "spk2voice")["vc1-spkA"]
    assert read_dict(tmp_path / "c" / "spk2voice")["vc2-spkA"] != a
    assert read_dict(tmp_path / "d" / "spk2voice")["vc1-spkA"] != a
    wav, _ = AudioTable(tmp_path / "a" / "wav.scp")["vc1-spkA-0"]
    assert len(wav) == 0.3 * SR


# ---- bad input -----------------------------------------------------------------------------

@pytest.fixture
def bad(src, tmp_path):
    (tmp_path / "nowav").mkdir()
    (tmp_path / "nowav" / "utt2spk").write_text("spkA-0 spkA\n")
    (tmp_path / "feats").mkdir()
    (tmp_path / "feats" / "feats.scp").write_text("x 1\n")
    sf.write(str(tmp_path / "stereo.wav"), np.zeros((100, 2)), SR)
    return {"src": src, "tmp": tmp_path, "wav": tmp_path / "spkA-0.wav"}


@pytest.mark.parametrize("main,argv,message", [
    (perturb_data_dir, "voice --warp-range 1.2,0.8 {src} {tmp}/x", "--warp-range 1.2,0.8: give LO"),
    (perturb_data_dir, "voice --warp-range 0,1.1 {src} {tmp}/x", "with 0 < LO <= HI"),
    (perturb_data_dir, "voice --f0-range x,1 {src} {tmp}/x", "--f0-range x,1: give LO,HI"),
    (perturb_data_dir, "voice --tilt-range 3 {src} {tmp}/x", "--tilt-range 3: give LO,HI"),
    (perturb_data_dir, "voice --telephone-prob 1.5 {src} {tmp}/x", "give a probability in [0, 1]"),
    (perturb_data_dir, "voice --eq-db loud {src} {tmp}/x", "--eq-db 'loud': must be a number"),
    (perturb_data_dir, "voice {tmp}/nowhere {tmp}/x", "nowhere: no such data directory"),
    (perturb_data_dir, "voice {tmp}/nowav {tmp}/x", "nowav/wav.scp: no such file"),
    (perturb_data_dir, "voice {src} {src}/", "the destination must differ from the source"),
    (perturb_data_dir, "voice {src} {tmp}/feats", "feats/feats.scp already exists"),
    (wav_voice, "--warp 0 {wav} -", "--warp '0': must be a number greater than 0"),
    (wav_voice, "--f0-shift nan {wav} -", "--f0-shift 'nan': must be a finite number"),
    (wav_voice, "--eq-db 3 {wav} -", "--eq-db needs --eq-seed"),
    (wav_voice, "--tilt -3 {tmp}/none.wav -", "none.wav: no such audio file"),
    (wav_voice, "--warp 1.1 {tmp}/stereo.wav -", "2 channels; wav-voice takes mono audio"),
])
def test_bad_input_is_one_line(bad, capsys, main, argv, message):
    before = {p.name: p.read_text() for p in bad["src"].iterdir()}
    assert main.main(argv.format(**bad).split()) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message.format(**bad) in err, err
    assert {p.name: p.read_text() for p in bad["src"].iterdir()} == before


def test_bad_input_through_the_script(bad):
    out = run(f"{UTILS}/perturb_data_dir_voice.sh --f0-range 4,-4 {bad['src']} {bad['tmp']}/x",
              check=False)
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr and not (bad["tmp"] / "x").exists()

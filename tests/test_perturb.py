"""Speed and volume perturbation of data dirs (utils/data/perturb_data_dir_*.sh, Kaldi's tools).

References are independent of the code: a tone's length and FFT peak, tables worked by hand,
Kaldi's own volume draw (Python's random seeded with 0), and the perturbed wav.scp read back
through speechkit's AudioTable so that the pipes really run.
"""
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, run, write_tone
from speechkit.bin import perturb_data_dir, wav_farfield, wav_speed, wav_volume
from speechkit.data.validate import validate
from speechkit.io import read_dict
from speechkit.io.audio import AudioTable

UTILS = REPO / "utils"
SR = 16000


@pytest.fixture(autouse=True)
def _speechkit_on_path(monkeypatch):
    """The pipes in wav.scp call `speechkit`, as in a recipe that sourced path.sh."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")


def _sine(path, seconds=1.0, freq=440.0):
    t = np.arange(int(seconds * SR)) / SR
    sf.write(str(path), 0.5 * np.sin(2 * np.pi * freq * t), SR, subtype="PCM_16")
    return path


def _peak_hz(wav):
    spectrum = np.abs(np.fft.rfft(wav * np.hanning(len(wav))))
    return np.argmax(spectrum) * SR / len(wav)


def _lines(path):
    return Path(path).read_text().splitlines()


# ---- the audio tools ----------------------------------------------------------------------

@pytest.mark.parametrize("factor,hz", [("1.1", 484.0), ("0.9", 396.0)])
def test_speed_changes_length_and_pitch_like_sox_speed(tmp_path, factor, hz):
    src = _sine(tmp_path / "a.wav")
    assert wav_speed.main(["--factor", factor, str(src), str(tmp_path / "b.wav")]) == 0
    out, rate = sf.read(str(tmp_path / "b.wav"))
    assert rate == SR
    assert abs(len(out) - SR / float(factor)) <= 1  # 1 s at 1.1x lasts 1/1.1 s
    assert abs(_peak_hz(out) - hz) < 1.5  # 440 Hz * 1.1 = 484 Hz (FFT bins are 1.1 Hz wide)


def test_speed_and_volume_read_an_upstream_pipe(tmp_path):
    src = _sine(tmp_path / "a.wav", seconds=0.5)
    run(f"cat {src} | speechkit wav-volume --scale 0.5 - - | speechkit wav-speed --factor 0.9 - - "
        f"> {tmp_path}/b.wav")
    out, _ = sf.read(str(tmp_path / "b.wav"))
    assert abs(len(out) - 0.5 * SR / 0.9) <= 1
    assert abs(np.abs(out).max() - 0.25) < 0.01  # amplitude 0.5 halved


def test_volume_scales_samples(tmp_path):
    src = _sine(tmp_path / "a.wav", seconds=0.2)
    wav_volume.main(["--scale", "1.5", str(src), str(tmp_path / "b.wav")])
    before, after = sf.read(str(src))[0], sf.read(str(tmp_path / "b.wav"))[0]
    assert np.allclose(after, 1.5 * before, atol=2 / 32768)


# ---- speed: exact tables ------------------------------------------------------------------

@pytest.fixture
def rich(datadir):
    """The shared fixture (2 speakers x 3 utterances of 0.3, 0.4, 0.5 s) with the tables a speed
    copy renames, scales or drops."""
    utts = list(read_dict(datadir / "utt2spk"))
    (datadir / "utt2dur").write_text("".join(f"{u} {0.3 + 0.1 * (i % 3):.1f}\n"
                                             for i, u in enumerate(utts)))
    (datadir / "utt2lang").write_text("".join(f"{u} en\n" for u in utts))
    (datadir / "utt2emo").write_text("".join(f"{u} happy\n" for u in utts))
    (datadir / "spk2gender").write_text("spkA f\nspkB m\n")
    for name in ("feats.scp", "utt2num_frames"):  # features of the source: not carried over
        (datadir / name).write_text("".join(f"{u} 1\n" for u in utts))
    (datadir / "cmvn.scp").write_text("spkA 1\nspkB 1\n")
    return datadir


def test_speed_tables_are_kaldis(rich, tmp_path):
    dest = tmp_path / "sp"
    out = run(f"{UTILS}/perturb_data_dir_speed.sh 0.9 {rich} {dest}")
    assert "feats.scp is not copied" in out.stderr
    wavs = tmp_path / "wav"
    assert _lines(dest / "utt2spk")[:2] == ["sp0.9-spkA-000 sp0.9-spkA",
                                            "sp0.9-spkA-001 sp0.9-spkA"]
    assert _lines(dest / "spk2utt")[1] == "sp0.9-spkB sp0.9-spkB-000 sp0.9-spkB-001 sp0.9-spkB-002"
    assert _lines(dest / "wav.scp")[0] == \
        f"sp0.9-spkA-000 speechkit wav-speed --factor 0.9 {wavs}/spkA-000.wav - |"
    # 0.3/0.9, 0.4/0.9, 0.5/0.9 as awk prints them (%.6g)
    assert _lines(dest / "utt2dur")[:3] == ["sp0.9-spkA-000 0.333333", "sp0.9-spkA-001 0.444444",
                                            "sp0.9-spkA-002 0.555556"]
    assert _lines(dest / "utt2uniq")[3] == "sp0.9-spkB-000 spkB-000"
    assert _lines(dest / "spk2gender") == ["sp0.9-spkA f", "sp0.9-spkB m"]
    assert _lines(dest / "text")[0] == "sp0.9-spkA-000 one two"
    assert _lines(dest / "utt2lang")[5] == "sp0.9-spkB-002 en"
    assert _lines(dest / "utt2emo")[5] == "sp0.9-spkB-002 happy"
    # reco2dur is measured from the wav headers when the source has none: 0.5 s / 0.9
    assert read_dict(dest / "reco2dur")["sp0.9-spkA-002"] == "0.555556"
    for name in ("feats.scp", "cmvn.scp", "utt2num_frames"):
        assert not (dest / name).exists(), name
    assert validate(dest, no_feats=True) == []
    run(f"speechkit data-dir validate --no-feats {dest}")


def test_speed_segments_scaled_and_short_ones_dropped(tmp_path):
    src, wavs = tmp_path / "src", tmp_path / "wav"
    src.mkdir()
    wavs.mkdir()
    write_tone(wavs / "r1.wav", seconds=1.0)
    write_tone(wavs / "r2.wav", seconds=0.8)
    (src / "wav.scp").write_text(f"r1 {wavs}/r1.wav\nr2 cat {wavs}/r2.wav |\n")
    # spk-c lasts 9 ms: 10 ms after 0.9x, not more, so Kaldi drops it.
    (src / "segments").write_text("spk-a r1 0.10 0.55\nspk-b r2 0.00 0.80\nspk-c r2 0.50 0.509\n")
    (src / "utt2spk").write_text("spk-a spk\nspk-b spk\nspk-c spk\n")
    (src / "text").write_text("spk-a a\nspk-b b\nspk-c c\n")
    dest = tmp_path / "sp"
    assert perturb_data_dir.main(["speed", "0.9", str(src), str(dest)]) == 0
    assert _lines(dest / "segments") == ["sp0.9-spk-a sp0.9-r1 0.11 0.61",
                                         "sp0.9-spk-b sp0.9-r2 0.00 0.89"]
    assert _lines(dest / "wav.scp") == [
        f"sp0.9-r1 speechkit wav-speed --factor 0.9 {wavs}/r1.wav - |",
        f"sp0.9-r2 cat {wavs}/r2.wav | speechkit wav-speed --factor 0.9 - - |"]
    assert list(read_dict(dest / "utt2spk")) == ["sp0.9-spk-a", "sp0.9-spk-b"]
    assert _lines(dest / "utt2dur") == ["sp0.9-spk-a 0.5", "sp0.9-spk-b 0.888889"]  # from segments
    assert _lines(dest / "reco2dur") == ["sp0.9-r1 1.11111", "sp0.9-r2 0.888889"]
    assert validate(dest, no_feats=True) == []
    audio = AudioTable(dest / "wav.scp", dest / "segments")
    lengths = {utt: len(wav) for utt, wav, _ in audio.items()}
    # 0.8/0.9 s printed as 0.89 ends past the recording (0.8889 s): cut there, as in Kaldi.
    assert lengths == {"sp0.9-spk-a": round(0.50 * SR), "sp0.9-spk-b": int(0.8 * SR / 0.9)}
    assert len(AudioTable(dest / "wav.scp")["sp0.9-r2"][0]) == pytest.approx(0.8 * SR / 0.9, abs=1)


def test_perturbed_wav_scp_plays_through_audio_table(datadir, tmp_path):
    # One source entry is itself a pipe: the speed stage goes after it.
    scp = datadir / "wav.scp"
    scp.write_text(scp.read_text().replace(f"{tmp_path}/wav/spkB-002.wav",
                                           f"cat {tmp_path}/wav/spkB-002.wav |"))
    perturb_data_dir.main(["speed", "1.1", str(datadir), str(tmp_path / "sp")])
    original = {k: w for k, w, _ in AudioTable(scp).items()}
    perturbed = {k: w for k, w, _ in AudioTable(tmp_path / "sp" / "wav.scp").items()}
    assert set(perturbed) == {f"sp1.1-{k}" for k in original}
    for key, wav in original.items():
        assert abs(len(perturbed[f"sp1.1-{key}"]) - len(wav) / 1.1) <= 1, key
    assert "cat " in read_dict(tmp_path / "sp" / "wav.scp")["sp1.1-spkB-002"]


def test_utt2clean_follows_the_audio(datadir, tmp_path):
    utts = list(read_dict(datadir / "utt2spk"))
    (datadir / "utt2clean").write_text("".join(f"{u} {tmp_path}/wav/{u}.wav\n" for u in utts))
    perturb_data_dir.main(["speed", "1.1", str(datadir), str(tmp_path / "sp")])
    clean = read_dict(tmp_path / "sp" / "utt2clean")
    assert clean["sp1.1-spkA-000"] == \
        f"speechkit wav-speed --factor 1.1 {tmp_path}/wav/spkA-000.wav - |"
    noisy = AudioTable(tmp_path / "sp" / "wav.scp")["sp1.1-spkA-000"][0]
    assert np.array_equal(AudioTable(tmp_path / "sp" / "utt2clean")["sp1.1-spkA-000"][0], noisy)


def test_speed_chains_utt2uniq_of_a_perturbed_source(datadir, tmp_path):
    perturb_data_dir.main(["speed", "0.9", str(datadir), str(tmp_path / "a")])
    perturb_data_dir.main(["speed", "1.1", str(tmp_path / "a"), str(tmp_path / "b")])
    assert read_dict(tmp_path / "b" / "utt2uniq")["sp1.1-sp0.9-spkA-001"] == "spkA-001"
    assert validate(tmp_path / "b", no_feats=True) == []


# ---- 3-way --------------------------------------------------------------------------------

def test_3way_keeps_the_original_ids_and_adds_both_speeds(datadir, tmp_path):
    dest = tmp_path / "train_sp"
    run(f"{UTILS}/data/perturb_data_dir_speed_3way.sh {datadir} {dest}")
    utts = list(read_dict(datadir / "utt2spk"))
    expected = sorted(utts + [f"sp0.9-{u}" for u in utts] + [f"sp1.1-{u}" for u in utts])
    assert list(read_dict(dest / "utt2spk")) == expected
    uniq = read_dict(dest / "utt2uniq")
    assert uniq["spkA-001"] == uniq["sp0.9-spkA-001"] == uniq["sp1.1-spkA-001"] == "spkA-001"
    assert read_dict(dest / "wav.scp")["spkA-001"] == f"{tmp_path}/wav/spkA-001.wav"
    dur = read_dict(dest / "utt2dur")
    assert [dur[u] for u in ("spkA-002", "sp0.9-spkA-002", "sp1.1-spkA-002")] == \
        ["0.5", "0.555556", "0.454545"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("train_sp")] == ["train_sp"]
    assert validate(dest, no_feats=True) == []
    assert not (datadir / "utt2dur").exists()  # the source is never written


def test_3way_always_include_prefix(datadir, tmp_path):
    perturb_data_dir.main(["speed-3way", "--always-include-prefix", "true", str(datadir),
                           str(tmp_path / "sp")])
    utt2spk = read_dict(tmp_path / "sp" / "utt2spk")
    assert utt2spk["sp1.0-spkA-000"] == "sp1.0-spkA" and "spkA-000" not in utt2spk
    assert read_dict(tmp_path / "sp" / "utt2uniq")["sp1.0-spkA-000"] == "spkA-000"
    assert validate(tmp_path / "sp", no_feats=True) == []


# ---- reruns -------------------------------------------------------------------------------

def test_rerun_gives_the_same_dir_and_replaces_stale_tables(datadir, tmp_path):
    dest = tmp_path / "sp"
    perturb_data_dir.main(["speed", "0.9", str(datadir), str(dest)])
    first = {p.name: p.read_text() for p in dest.iterdir()}
    (dest / "utt2old").write_text("sp0.9-spkA-000 x\n")  # from some earlier run
    assert perturb_data_dir.main(["speed", "0.9", str(datadir), str(dest)]) == 0
    assert {p.name: p.read_text() for p in dest.iterdir()} == first


def test_rerun_after_an_interrupted_3way(datadir, tmp_path):
    leftover = tmp_path / "sp_speed0.9"  # a part an interrupted run left behind
    leftover.mkdir()
    (leftover / "utt2spk").write_text("garbage\n")
    assert perturb_data_dir.main(["speed-3way", str(datadir), str(tmp_path / "sp")]) == 0
    assert not leftover.exists()
    assert validate(tmp_path / "sp", no_feats=True) == []


@pytest.mark.parametrize("op", [["speed", "0.9"], ["speed-3way"]])
def test_dest_with_features_is_refused(datadir, tmp_path, capsys, op):
    dest = tmp_path / "sp"
    dest.mkdir()
    (dest / "feats.scp").write_text("x y\n")
    assert perturb_data_dir.main(op + [str(datadir), str(dest)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "feats.scp already exists: refusing" in err
    assert [p.name for p in dest.iterdir()] == ["feats.scp"]


# ---- volume -------------------------------------------------------------------------------

def test_volume_is_kaldis_draw_and_plays(datadir, tmp_path):
    original = {k: w for k, w, _ in AudioTable(datadir / "wav.scp").items()}
    out = run(f"{UTILS}/data/perturb_data_dir_volume.sh {datadir}")
    assert "added volume perturbation" in out.stderr
    draw = random.Random(0)  # Kaldi's script: random.seed(0), random.uniform(0.125, 2.0) per line
    kaldi = {rec: draw.uniform(0.125, 2.0) for rec in original}
    vols = {k: float(v) for k, v in read_dict(datadir / "reco2vol").items()}
    assert vols == kaldi
    wav_scp = read_dict(datadir / "wav.scp")
    assert wav_scp["spkA-000"] == (f"speechkit wav-volume --scale {kaldi['spkA-000']} "
                                   f"{tmp_path}/wav/spkA-000.wav - |")
    for key, wav, _ in AudioTable(datadir / "wav.scp").items():
        expected = np.clip(original[key] * vols[key], -1, 1)
        assert np.allclose(wav, expected, atol=2 / 32768), key
    assert validate(datadir, no_feats=True) == []


def test_volume_twice_does_nothing(datadir, capsys):
    perturb_data_dir.main(["volume", str(datadir)])
    before = {p.name: p.read_text() for p in datadir.iterdir()}
    capsys.readouterr()
    assert perturb_data_dir.main(["volume", str(datadir)]) == 0
    assert "already volume-perturbed; not doing anything" in capsys.readouterr().err
    assert {p.name: p.read_text() for p in datadir.iterdir()} == before


def test_volume_moves_stale_features_and_takes_given_scales(datadir, tmp_path):
    (datadir / "feats.scp").write_text("spkA-000 x.ark:5\n")
    (datadir / "cmvn.scp").write_text("spkA x.ark:9\n")
    given = tmp_path / "vols"
    given.write_text("".join(f"{u} 0.5\n" for u in read_dict(datadir / "utt2spk")))
    perturb_data_dir.main(["volume", "--reco2vol", str(given), str(datadir)])
    assert (datadir / ".backup" / "feats.scp").read_text() == "spkA-000 x.ark:5\n"
    assert (datadir / ".backup" / "cmvn.scp").is_file() and not (datadir / "feats.scp").exists()
    assert set(read_dict(datadir / "reco2vol").values()) == {"0.5"}
    assert "--scale 0.5 " in read_dict(datadir / "wav.scp")["spkB-002"]


def test_volume_of_utt2clean_and_a_rerun_after_an_interruption(datadir, tmp_path):
    utts = list(read_dict(datadir / "utt2spk"))
    (datadir / "utt2clean").write_text("".join(f"{u} {tmp_path}/wav/{u}.wav\n" for u in utts))
    wav_scp = (datadir / "wav.scp").read_text()
    perturb_data_dir.main(["volume", str(datadir)])
    clean = (datadir / "utt2clean").read_text()
    assert clean == (datadir / "wav.scp").read_text()  # same scale for noisy and clean
    # Killed before wav.scp, the commit point, was written: the rerun completes the job once.
    (datadir / "wav.scp").write_text(wav_scp)
    assert perturb_data_dir.main(["volume", str(datadir)]) == 0
    assert (datadir / "utt2clean").read_text() == clean == (datadir / "wav.scp").read_text()


def test_speed_after_volume_chains_the_pipes(datadir, tmp_path):
    perturb_data_dir.main(["volume", str(datadir)])
    perturb_data_dir.main(["speed", "1.1", str(datadir), str(tmp_path / "sp")])
    entry = read_dict(tmp_path / "sp" / "wav.scp")["sp1.1-spkA-000"]
    assert entry.startswith("speechkit wav-volume --scale ")
    assert entry.endswith(" - | speechkit wav-speed --factor 1.1 - - |")
    wav, _ = AudioTable(tmp_path / "sp" / "wav.scp")["sp1.1-spkA-000"]
    assert abs(len(wav) - 0.3 * SR / 1.1) <= 1


# ---- far field ----------------------------------------------------------------------------

@pytest.fixture
def one(tmp_path):
    """A data dir of one 0.5 s recording (each far-field pipe simulates a room: keep it small)."""
    src = tmp_path / "one"
    src.mkdir()
    write_tone(tmp_path / "a.wav", seconds=0.5)
    (src / "wav.scp").write_text(f"spk-1 {tmp_path}/a.wav\n")
    (src / "utt2spk").write_text("spk-1 spk\n")
    (src / "text").write_text("spk-1 yes\n")
    (src / "utt2dur").write_text("spk-1 0.5\n")
    return src


def _snr_db(clean, noisy):
    return 10 * np.log10(np.sum(clean ** 2) / np.sum((noisy - clean) ** 2))


def test_farfield_tables_and_the_snr_of_its_pipe(one, tmp_path):
    dest = tmp_path / "rvb"
    run(f"{UTILS}/data/perturb_data_dir_farfield.sh --snrs 10 --noise-kinds pink {one} {dest}")
    entry = read_dict(dest / "wav.scp")["rvb1-spk-1"]
    seed = entry.split()[3]
    assert entry == (f"speechkit wav-farfield --seed {seed} --snr 10 --noise pink "
                     f"{tmp_path}/a.wav - |")
    assert _lines(dest / "utt2dur") == ["rvb1-spk-1 0.5"]  # the length does not change
    assert _lines(dest / "utt2uniq") == ["rvb1-spk-1 spk-1"]
    assert validate(dest, no_feats=True) == []
    noisy = AudioTable(dest / "wav.scp")["rvb1-spk-1"][0]
    # The same seed without noise is the same room: what the pipe added is noise at 10 dB.
    dry = f"k speechkit wav-farfield --seed {seed} {tmp_path}/a.wav - |\n"
    (tmp_path / "dry.scp").write_text(dry)
    reverberant = AudioTable(tmp_path / "dry.scp")["k"][0]
    assert len(noisy) == len(reverberant) == 0.5 * SR
    assert abs(_snr_db(reverberant, noisy) - 10) < 0.3


def test_farfield_with_a_noise_dir_is_reproducible(one, tmp_path):
    noise = tmp_path / "musan" / "noise" / "free sound"  # a space, which the pipe must quote
    noise.mkdir(parents=True)
    write_tone(noise / "n1.wav", seconds=0.2, seed=5)
    args = ["farfield", "--noise-dir", str(tmp_path / "musan"), "--snrs", "5"]
    perturb_data_dir.main(args + [str(one), str(tmp_path / "a")])
    perturb_data_dir.main(args + [str(one), str(tmp_path / "b")])
    perturb_data_dir.main(args + ["--prefix", "rvb2", str(one), str(tmp_path / "c")])
    entry = read_dict(tmp_path / "a" / "wav.scp")["rvb1-spk-1"]
    assert f"--snr 5 --noise-file '{noise}/n1.wav' {tmp_path}/a.wav - |" in entry
    assert (tmp_path / "b" / "wav.scp").read_text() == (tmp_path / "a" / "wav.scp").read_text()
    assert read_dict(tmp_path / "c" / "wav.scp")["rvb2-spk-1"].split()[3] != entry.split()[3]
    wav, _ = AudioTable(tmp_path / "a" / "wav.scp")["rvb1-spk-1"]
    assert len(wav) == 0.5 * SR and np.abs(wav).max() > 0


# ---- from a recipe, and bad input ---------------------------------------------------------

def test_reachable_from_a_recipe(datadir, tmp_path):
    out = run(f"utils/perturb_data_dir_speed.sh 1.1 {datadir} {tmp_path}/sp",
              cwd=REPO / "egs" / "asr")
    assert "generated speed-perturbed version" in out.stderr
    assert (REPO / "egs" / "asr" / "utils" / "data" / "perturb_data_dir_volume.sh").is_file()


@pytest.fixture
def bad(datadir, tmp_path):
    """Inputs that are wrong: a dir without wav.scp, a reco2vol with a word for a scale."""
    (tmp_path / "nowav").mkdir()
    (tmp_path / "nowav" / "utt2spk").write_text("spkA-000 spkA\n")
    (tmp_path / "badvol").write_text("spkA-000 loud\n")
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "utt2spk").write_text("spkA-000 spkA\n")
    (tmp_path / "gone" / "wav.scp").write_text("spkA-000 /no/a.wav\n")
    return {"src": datadir, "tmp": tmp_path, "wav": tmp_path / "wav" / "spkA-000.wav"}


def _unharmed(datadir, wav_scp):
    return (datadir / "wav.scp").read_text() == wav_scp and not (datadir / "reco2vol").exists()


@pytest.mark.parametrize("main,argv,message", [
    (perturb_data_dir, "speed 0 {src} {tmp}/x", "speed factor '0': must be a number greater"),
    (perturb_data_dir, "speed -0.9 {src} {tmp}/x", "speed factor '-0.9': must be a number"),
    (perturb_data_dir, "speed fast {src} {tmp}/x", "speed factor 'fast': must be a number"),
    (perturb_data_dir, "speed nan {src} {tmp}/x", "speed factor 'nan': must be a number"),
    (perturb_data_dir, "speed 0.9 {src} {src}/", "the destination must differ from the source"),
    (perturb_data_dir, "speed 0.9 {tmp}/nowhere {tmp}/x", "nowhere: no such data directory"),
    (perturb_data_dir, "speed 0.9 {tmp}/nowav {tmp}/x", "nowav/wav.scp: no such file"),
    (perturb_data_dir, "speed-3way {tmp}/nowav {tmp}/x", "nowav/wav.scp: no such file"),
    (perturb_data_dir, "speed 0.9 {tmp}/gone {tmp}/x",
     "gone/wav.scp (key spkA-000): cannot read the audio file /no/a.wav"),
    (perturb_data_dir, "volume {tmp}/nowav", "nowav/wav.scp: no such file"),
    (perturb_data_dir, "volume --scale-low x {src}", "--scale-low 'x': must be a number"),
    (perturb_data_dir, "volume --scale-low 3 {src}", "need 0 < low <= high"),
    (perturb_data_dir, "volume --reco2vol {tmp}/badvol {src}",
     "badvol:1 (key spkA-000): volume 'loud'"),
    (perturb_data_dir, "farfield --snrs 10:loud {src} {tmp}/x", "--snrs 10:loud: 'loud' is not"),
    (perturb_data_dir, "farfield --noise-kinds babble {src} {tmp}/x", "'babble' is not valid"),
    (perturb_data_dir, "farfield --noise-dir {tmp}/nowhere {src} {tmp}/x",
     "--noise-dir {tmp}/nowhere: no such directory"),
    (perturb_data_dir, "farfield {tmp}/nowav {tmp}/x", "nowav/wav.scp: no such file"),
    (wav_farfield, "--seed 1 --snr 5 {wav} -", "--snr and --noise/--noise-file go together"),
    (wav_farfield, "--seed 1 --snr 5 --noise-file {tmp}/no.wav {wav} -", "no.wav: cannot read"),
    (wav_speed, "--factor 0 {wav} -", "--factor '0': must be a number"),
    (wav_volume, "--scale x {wav} -", "--scale 'x': must be a number"),
    (wav_speed, "--factor 1.1 {tmp}/none.wav -", "none.wav: no such audio file"),
])
def test_bad_input_is_one_line(bad, capsys, main, argv, message):
    wav_scp = (bad["src"] / "wav.scp").read_text()
    assert main.main(argv.format(**bad).split()) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message.format(**bad) in err, err
    assert _unharmed(bad["src"], wav_scp)


@pytest.mark.parametrize("cmd", ["utils/perturb_data_dir_speed.sh 1e999 {src} {tmp}/x",
                                 "utils/data/perturb_data_dir_volume.sh {tmp}/nowav"])
def test_bad_input_through_the_scripts(bad, cmd):
    wav_scp = (bad["src"] / "wav.scp").read_text()
    out = run(cmd.format(**bad), cwd=REPO, check=False)
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr and _unharmed(bad["src"], wav_scp)

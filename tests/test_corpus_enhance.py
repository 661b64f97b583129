"""Enhancement corpora: embedded_enhance (sentences + noise, VoiceBank+DEMAND style), its
noise_dir option, the noise generators' new parameters, and the voicebank_demand preparer on a
fixture tree with the DataShare release's names. Nothing is downloaded.
"""
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from speechkit.bin import prepare_corpus, synth_corpus
from speechkit.corpus import PREPARERS, enhance, voicebank_demand
from speechkit.corpus import room as roomsim
from speechkit.data.validate import validate
from speechkit.errors import SpeechkitError
from speechkit.io import AudioTable, read_dict

SPLITS = ("train", "dev", "test")
TABLES = ("text", "utt2spk", "spk2utt", "utt2dur", "utt2snr", "utt2noise", "utt2mix")


# ---- helpers: independent references ----

def active_snr(clean, noisy, sr=16000, frame=160, within_db=40.0):
    """SNR over the 10 ms frames of clean within 40 dB of its loudest (written independently)."""
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(noisy, dtype=np.float64) - clean
    s_energy, n_energy = [], []
    for start in range(0, len(clean), frame):
        s_energy.append(np.sum(clean[start:start + frame] ** 2) / frame)
        n_energy.append(np.sum(noise[start:start + frame] ** 2))
    s_energy, n_energy = np.array(s_energy), np.array(n_energy)
    keep = s_energy >= s_energy.max() / 10 ** (within_db / 10)
    return 10 * np.log10(np.sum(s_energy[keep] * frame) / np.sum(n_energy[keep]))


def peak_hz(x, sr=16000, lo=20.0, hi=2000.0):
    spec = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64) * np.hanning(len(x))))
    f = np.fft.rfftfreq(len(x), 1 / sr)
    band = (f >= lo) & (f <= hi)
    return float(f[band][np.argmax(spec[band])])


def mix_fields(value):
    return dict(kv.split("=", 1) for kv in value.split(","))


def pairs(d):
    """{utt: (noisy, clean)} of a data dir, read through its tables."""
    noisy = AudioTable(d / "wav.scp", sample_rate=16000)
    clean = AudioTable(d / "utt2clean", sample_rate=16000)
    return {u: (noisy[u][0], clean[u][0]) for u in noisy.keys()}


# ---- the embedded corpus ----

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """7 speakers of sentences (4 train, 1 dev, 2 test) x 4 utterances."""
    base = tmp_path_factory.mktemp("enhance")
    src = base / "corpus"
    assert synth_corpus.main(["--profile", "sentences", "--num-speakers", "7", "--dev-speakers",
                              "1", "--test-speakers", "2", "--utts-per-speaker", "4",
                              "--seed", "3", "--nj", "1", str(src)]) == 0
    return src


@pytest.fixture(scope="module")
def data(corpus, tmp_path_factory):
    dest = tmp_path_factory.mktemp("enhance_data") / "data"
    assert prepare_corpus.main(["embedded_enhance", str(corpus), str(dest)]) == 0
    return dest


def test_dirs_validate_with_every_table(corpus, data):
    manifest = {l.split("\t")[0]: l.split("\t") for l in
                (corpus / "manifest.tsv").read_text().splitlines()[1:]}
    for split in SPLITS:
        d = data / split
        assert validate(d, no_feats=True) == [], split
        for name in TABLES + ("wav.scp", "utt2clean"):
            assert (d / name).is_file(), (split, name)
        utt2spk = read_dict(d / "utt2spk")
        assert {u for u, row in manifest.items() if row[2] == split} == set(utt2spk)
        text = read_dict(d / "text")
        assert all(text[u] == manifest[u][3] for u in utt2spk)
        snrs = {float(v) for v in read_dict(d / "utt2snr").values()}
        assert snrs == {2.5, 7.5, 12.5, 17.5} if split == "test" else snrs <= {0, 5, 10, 15}
        for utt, path in read_dict(d / "wav.scp").items():
            assert Path(path).is_absolute() and f"/wav/{split}/noisy/" in path
            assert read_dict(d / "utt2clean")[utt] == path.replace("/noisy/", "/clean/")


def test_snr_is_the_target_within_a_tenth_of_a_db(data):
    for split in SPLITS:
        d = data / split
        target = read_dict(d / "utt2snr")
        durations = read_dict(d / "utt2dur")
        for utt, (noisy, clean) in pairs(d).items():
            assert len(noisy) == len(clean)
            assert abs(len(clean) / 16000 - float(durations[utt])) < 1e-4
            assert abs(active_snr(clean, noisy) - float(target[utt])) < 0.1, (split, utt)
            assert abs(enhance.measure_snr(clean, noisy, 16000) - float(target[utt])) < 0.1
            # The clean reference sits at the speech level: -25 dBFS over active speech.
            mask = enhance.active_mask(clean, 16000)
            assert abs(10 * np.log10(np.mean(clean[mask].astype(np.float64) ** 2)) + 25) < 0.1


def test_snrs_and_noise_types_are_balanced(data):
    test_snr = list(read_dict(data / "test" / "utt2snr").values())   # 8 utterances, 4 SNRs
    assert sorted(test_snr) == sorted(["2.5", "7.5", "12.5", "17.5"] * 2)
    train = read_dict(data / "train" / "utt2noise")                  # 16 utterances, 4 kinds
    assert sorted(train.values()) == sorted(["white", "brown", "hum", "babble"] * 4)
    combos = {(train[u], s) for u, s in read_dict(data / "train" / "utt2snr").items()}
    assert len(combos) == 16                                        # every (kind, SNR) pair


def test_test_noise_is_unseen_in_training(data):
    spk = {s: set(read_dict(data / s / "utt2spk").values()) for s in SPLITS}
    seen = {s: {"kinds": set(), "f0": set(), "talkers": set()} for s in SPLITS}
    for split in SPLITS:
        utt2spk = read_dict(data / split / "utt2spk")
        for utt, value in read_dict(data / split / "utt2mix").items():
            fields = mix_fields(value)
            seen[split]["kinds"].add(fields["noise"])
            if "f0" in fields:
                seen[split]["f0"].add(float(fields["f0"]))
            if "talkers" in fields:
                talkers = {t.split("-")[0] for t in fields["talkers"].split("+")}
                assert talkers <= spk[split]             # babble from the split's own speakers
                if len(spk[split]) > 1:                  # ... but never the target's voice
                    assert utt2spk[utt] not in talkers
                seen[split]["talkers"] |= talkers
    assert seen["test"]["kinds"] == {"white", "pink", "brown", "hum", "babble"}
    assert "pink" not in seen["train"]["kinds"] | seen["dev"]["kinds"]
    assert seen["train"]["f0"] <= {50.0, 60.0} and seen["test"]["f0"] <= {55.0, 65.0}
    assert seen["test"]["f0"] and seen["train"]["f0"]
    assert seen["train"]["talkers"] and seen["test"]["talkers"]
    assert not seen["train"]["talkers"] & seen["test"]["talkers"]


def test_hum_in_the_mixture_has_the_recorded_fundamental(data):
    for split in ("train", "test"):
        d = data / split
        mixes = read_dict(d / "utt2mix")
        audio = pairs(d)
        hums = [u for u, v in mixes.items() if mix_fields(v)["noise"] == "hum"]
        assert hums
        for utt in hums:
            noisy, clean = audio[utt]
            noise = noisy.astype(np.float64) - clean
            assert abs(peak_hz(noise, hi=75.0) - float(mix_fields(mixes[utt])["f0"])) < 1.5


def test_clean_references_have_no_digital_silence(corpus, data):
    def longest_zero_run(x):
        zero = np.concatenate([[0], (x == 0).astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(zero))
        return int(np.max(edges[1::2] - edges[::2])) if len(edges) else 0

    raw = [sf.read(str(p), dtype="int16")[0] for p in sorted((corpus / "wav").glob("*.wav"))]
    assert max(longest_zero_run(x) for x in raw) > 500      # eSpeak's silences: the problem
    for split in SPLITS:
        for path in read_dict(data / split / "utt2clean").values():
            assert longest_zero_run(sf.read(path, dtype="int16")[0]) < 16, path


def test_same_seed_same_bytes_other_seed_other_noise(corpus, data, tmp_path):
    again = tmp_path / "again"
    assert enhance.prepare(corpus, again) == {"train": 16, "dev": 4, "test": 8}
    for split in SPLITS:
        for name in TABLES:
            assert (again / split / name).read_bytes() == (data / split / name).read_bytes()
        for utt in read_dict(data / split / "utt2spk"):
            for sub in ("noisy", "clean"):
                rel = Path("wav") / split / sub / f"{utt}.wav"
                assert (again / rel).read_bytes() == (data / rel).read_bytes(), rel
    other = tmp_path / "other"
    enhance.prepare(corpus, other, seed=1)
    rel = Path("wav") / "test" / "noisy"
    utt = sorted(read_dict(data / "test" / "utt2spk"))[0]
    assert (other / rel / f"{utt}.wav").read_bytes() != (data / rel / f"{utt}.wav").read_bytes()


def test_loud_speech_is_scaled_not_clipped_and_recorded(corpus, tmp_path):
    dest = tmp_path / "loud"
    enhance.prepare(corpus, dest, speech_level=-4.0, train_snrs=(0,), test_snrs=(0.5,))
    scaled = 0
    for split in SPLITS:
        d = dest / split
        mixes = read_dict(d / "utt2mix")
        for utt, (noisy, clean) in pairs(d).items():
            scale = float(mix_fields(mixes[utt])["scale"])
            scaled += scale < 1
            assert np.max(np.abs(noisy)) <= roomsim.PEAK + 1e-4
            assert abs(active_snr(clean, noisy) - float(read_dict(d / "utt2snr")[utt])) < 0.1
            # The reference is scaled with the mixture: its level says how much.
            mask = enhance.active_mask(clean, 16000)
            level = 10 * np.log10(np.mean(clean[mask].astype(np.float64) ** 2))
            assert abs(level - (-4.0 + 20 * np.log10(scale))) < 0.1
    assert scaled >= 16


def test_a_rerun_replaces_the_wavs(corpus, tmp_path):
    dest = tmp_path / "d"
    enhance.prepare(corpus, dest)
    stale = dest / "wav" / "test" / "noisy" / "old-utt.wav"
    stale.write_bytes(b"x")
    enhance.prepare(corpus, dest, test_snrs=(5,))
    assert not stale.exists()
    assert set(read_dict(dest / "test" / "utt2snr").values()) == {"5"}


# ---- noise_dir ----

def write_noise(path, seconds, freq, sr=48000, seed=0):
    """A tone at `freq` Hz plus a little noise, so the file can be recognised in a mixture."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.003 * rng.standard_normal(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, subtype="PCM_16")


DEMAND_LIKE = {"DKITCHEN": 300, "OOFFICE": 500, "SPSQUARE": 700, "TBUS": 900}


@pytest.fixture(scope="module")
def demand_dir(tmp_path_factory):
    """DEMAND's layout (<ENV>/ch01.wav ...) at 48 kHz; each file a tone of its own."""
    root = tmp_path_factory.mktemp("demand") / "DEMAND"
    for env, freq in DEMAND_LIKE.items():
        for ch in (1, 2):
            write_noise(root / env / f"ch{ch:02d}.wav", 5.0, freq + 40 * ch, seed=ch)
    (root / "README.txt").write_text("not audio\n")
    return root


def file_freq(rel):
    env, ch = rel.split("/")
    return DEMAND_LIKE[env] + 40 * int(ch[2:4])


def test_noise_dir_holds_out_whole_noise_types(corpus, demand_dir, tmp_path):
    dest = tmp_path / "data"
    assert prepare_corpus.main(["embedded_enhance", str(corpus), str(dest),
                                "--opt", f"noise_dir={demand_dir}"]) == 0
    types, files = {}, {}
    for split in SPLITS:
        d = dest / split
        assert validate(d, no_feats=True) == []
        mixes = read_dict(d / "utt2mix")
        noise = read_dict(d / "utt2noise")
        types[split] = set(noise.values())
        files[split] = {mix_fields(v)["file"] for v in mixes.values()}
        for utt, (noisy, clean) in pairs(d).items():
            fields = mix_fields(mixes[utt])
            assert fields["file"].split("/")[0] == noise[utt] == fields["noise"]
            assert abs(active_snr(clean, noisy) - float(read_dict(d / "utt2snr")[utt])) < 0.1
            # The mixed-in noise is the file's tone, resampled from 48 kHz.
            assert abs(peak_hz(noisy.astype(np.float64) - clean) - file_freq(fields["file"])) < 3
    assert len(types["test"]) == 1 and types["test"] <= set(DEMAND_LIKE)
    assert not types["test"] & (types["train"] | types["dev"])
    assert not files["test"] & (files["train"] | files["dev"])


def test_noise_dir_of_loose_files_splits_the_files(corpus, tmp_path):
    noise_dir = tmp_path / "noise"
    for i, (name, seconds) in enumerate((("fan", 4.0), ("street", 0.5), ("tap", 3.0))):
        write_noise(noise_dir / f"{name}.wav", seconds, 400 + 100 * i, sr=16000, seed=i)
    dest = tmp_path / "data"
    enhance.prepare(corpus, dest, noise_dir=str(noise_dir), noise_test_fraction=0.3)
    used = {s: set(read_dict(dest / s / "utt2noise").values()) for s in SPLITS}
    assert len(used["test"]) == 1 and len(used["train"]) == 2
    assert not used["test"] & used["train"] and used["dev"] <= used["train"]
    for split in SPLITS:                                # the 0.5 s street noise is tiled
        snr = read_dict(dest / split / "utt2snr")
        for utt, (noisy, clean) in pairs(dest / split).items():
            assert abs(active_snr(clean, noisy) - float(snr[utt])) < 0.1


@pytest.mark.parametrize("opts,message", [
    (["train_noises=white,traffic"], "give distinct noise kinds among"),
    (["test_snrs="], "test_snrs is empty"),
    (["noise_dir=/nonexistent/noise"], "noise_dir=/nonexistent/noise: no such directory"),
    (["speech_level=5"], "speech_level 5.0 dBFS"),
])
def test_bad_options_are_one_line(corpus, tmp_path, capsys, opts, message):
    argv = ["embedded_enhance", str(corpus), str(tmp_path / "d")]
    for opt in opts:
        argv += ["--opt", opt]
    assert prepare_corpus.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_noise_dir_with_synthetic_kinds_or_one_file_is_refused(corpus, tmp_path):
    noise_dir = tmp_path / "noise"
    write_noise(noise_dir / "only.wav", 1.0, 300)
    with pytest.raises(SpeechkitError, match="at least 2 are needed"):
        enhance.prepare(corpus, tmp_path / "d", noise_dir=str(noise_dir))
    with pytest.raises(SpeechkitError, match="with noise_dir the noise types are the recordings"):
        enhance.prepare(corpus, tmp_path / "d", noise_dir=str(noise_dir), train_noises=("pink",))


def test_options_parse_with_their_types():
    fn = PREPARERS["embedded_enhance"]
    got = prepare_corpus.parse_opts("embedded_enhance", fn, [
        "train_snrs=-5,0,5", "test_snrs=2.5,10", "test_noises=pink,hum", "speech_level=-30",
        "noise_dir=/x/y", "seed=4"])
    assert got == {"train_snrs": (-5, 0, 5), "test_snrs": (2.5, 10.0), "speech_level": -30.0,
                   "test_noises": ("pink", "hum"), "noise_dir": "/x/y", "seed": 4}


def test_design_is_balanced_when_kinds_and_snrs_share_a_factor():
    plan = enhance.design([f"u{i:02d}" for i in range(32)], 4, (0, 5, 10, 15),
                          np.random.default_rng(0))
    pairs_seen = [(k, s) for k, s in plan.values()]
    assert len(set(pairs_seen)) == 16 and all(pairs_seen.count(p) == 2 for p in set(pairs_seen))


# ---- the generators' new parameters (speechkit.corpus.room) ----

def test_hum_takes_a_fundamental_and_keeps_its_default_draw():
    x = roomsim.hum(32000, np.random.default_rng(0), f0=55.0)
    assert abs(peak_hz(x, hi=75.0) - 55.0) < 1.0
    drawn = roomsim.hum(16000, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    f0 = 50.0 if rng.random() < 0.5 else 60.0           # the draw the default makes
    assert np.array_equal(drawn, roomsim.hum(16000, rng, f0=f0))
    with pytest.raises(SpeechkitError, match="hum fundamental"):
        roomsim.hum(100, np.random.default_rng(0), f0=9000.0)


def test_babble_takes_a_number_of_talkers():
    t = np.arange(16000) / 16000
    pool = [np.sin(2 * np.pi * f * t) for f in (300, 500, 700, 900, 1100)]
    for k in (1, 2, 4):
        x = roomsim.make_noise("babble", 16000, np.random.default_rng(k), 16000, pool=pool,
                               babble_talkers=(k, k))
        spec = np.abs(np.fft.rfft(x))
        present = sum(spec[f] > 0.1 * spec.max() for f in (300, 500, 700, 900, 1100))
        assert present == k


# ---- voicebank_demand ----

TRAIN_FILES = {"p226_001": ("restaurant", 5), "p226_002": ("babble", 0),
               "p227_001": ("ssn", 15), "p228_003": ("car", 10), "p287_001": ("metro", 0)}
TEST_FILES = {"p232_001": ("living", 2.5), "p257_010": ("bus", 17.5)}


@pytest.fixture
def vb_tree(tmp_path):
    """The DataShare release unpacked into DS_10283_2791/ (48 kHz, 0.25 s per file)."""
    root = tmp_path / "vb" / "DS_10283_2791"
    rng = np.random.default_rng(0)
    for stem, files in (("trainset_28spk", TRAIN_FILES), ("testset", TEST_FILES)):
        for d in (f"clean_{stem}_wav", f"noisy_{stem}_wav", f"{stem}_txt", "logfiles"):
            (root / d).mkdir(parents=True, exist_ok=True)
        lines = []
        for i, (utt, (noise, snr)) in enumerate(files.items()):
            t = np.arange(12000) / 48000
            clean = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t)
            sf.write(str(root / f"clean_{stem}_wav" / f"{utt}.wav"), clean, 48000,
                     subtype="PCM_16")
            sf.write(str(root / f"noisy_{stem}_wav" / f"{utt}.wav"),
                     clean + 0.05 * rng.standard_normal(len(t)), 48000, subtype="PCM_16")
            (root / f"{stem}_txt" / f"{utt}.txt").write_text(f"Please call Stella {i}.\n")
            lines.append(f"{utt} {noise} {snr}\n")
        (root / "logfiles" / f"log_{stem}.txt").write_text("".join(lines))
    (root / "clean_testset_wav" / ".DS_Store").write_bytes(b"\0")
    return root


@pytest.fixture
def on_path(monkeypatch):
    """The venv's bin dir on PATH, so that `speechkit resample ... |` pipes in wav.scp run."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")


def test_voicebank_demand_splits_tables_and_resampling(vb_tree, tmp_path, on_path):
    data = tmp_path / "data"
    assert prepare_corpus.main(["voicebank_demand", str(vb_tree.parent), str(data)]) == 0
    expect = {"train": ["p227_001", "p228_003"], "dev": ["p226_001", "p226_002", "p287_001"],
              "test": ["p232_001", "p257_010"]}
    for split, utts in expect.items():
        d = data / split
        assert validate(d, no_feats=True) == [], split
        assert list(read_dict(d / "utt2spk")) == utts
        assert all(read_dict(d / "utt2spk")[u] == u.split("_")[0] for u in utts)
        logged = {**TRAIN_FILES, **TEST_FILES}
        assert read_dict(d / "utt2noise") == {u: logged[u][0] for u in utts}
        assert {u: float(v) for u, v in read_dict(d / "utt2snr").items()} == \
            {u: float(logged[u][1]) for u in utts}
        assert all(v.startswith("Please call Stella ") for v in read_dict(d / "text").values())
        assert all(float(v) == 0.25 for v in read_dict(d / "utt2dur").values())
        stem = "testset" if split == "test" else "trainset_28spk"
        for name, kind in (("wav.scp", "noisy"), ("utt2clean", "clean")):
            for utt, spec in read_dict(d / name).items():
                path = (vb_tree / f"{kind}_{stem}_wav" / f"{utt}.wav").resolve()
                assert spec == f"speechkit resample --rate 16000 {path} - |"
    # The pipes give 16 kHz pairs of equal length: soxr's resampling of the 48 kHz originals.
    for utt, (noisy, clean) in pairs(data / "test").items():
        assert len(noisy) == len(clean) == 4000
        ref = soxr.resample(sf.read(str(vb_tree / "clean_testset_wav" / f"{utt}.wav"))[0],
                            48000, 16000, quality="HQ")
        assert np.max(np.abs(clean - ref)) < 2e-4
        assert np.std(noisy - clean) > 0.01


def test_voicebank_demand_other_dev_speakers_and_rate(vb_tree, tmp_path):
    counts = voicebank_demand.prepare(vb_tree, tmp_path / "d", dev_speakers=("p227",),
                                      sample_rate=48000)
    assert counts == {"train": 4, "dev": 1, "test": 2}
    scp = read_dict(tmp_path / "d" / "dev" / "wav.scp")
    assert scp == {"p227_001": str((vb_tree / "noisy_trainset_28spk_wav" / "p227_001.wav")
                                   .resolve())}


def test_voicebank_demand_without_transcripts(vb_tree, tmp_path):
    for d in ("trainset_28spk_txt", "testset_txt"):
        for p in (vb_tree / d).iterdir():
            p.unlink()
        (vb_tree / d).rmdir()
    voicebank_demand.prepare(vb_tree, tmp_path / "d")
    assert validate(tmp_path / "d" / "test", no_feats=True) == []
    assert set(read_dict(tmp_path / "d" / "test" / "text").values()) == {""}


def remove_tree(path):
    for p in path.iterdir():
        p.unlink()
    path.rmdir()


@pytest.mark.parametrize("damage,message", [
    (lambda r: (r / "clean_testset_wav" / "p257_010.wav").unlink(),
     "no clean twin p257_010.wav in clean_testset_wav/"),
    (lambda r: (r / "noisy_testset_wav" / "p257_010.wav").unlink(),
     "no noisy twin in noisy_testset_wav/"),
    (lambda r: (r / "logfiles" / "log_testset.txt").write_text("p232_001 living 2.5\n"),
     "log_testset.txt: no line for p257_010"),
    (lambda r: (r / "logfiles" / "log_testset.txt").write_text("p232_001 living\n"),
     "log_testset.txt:1: expected `<file> <noise type> <SNR dB>`"),
    (lambda r: (r / "logfiles" / "log_trainset_28spk.txt").unlink(),
     "log_trainset_28spk.txt: missing"),
    (lambda r: remove_tree(r / "clean_trainset_28spk_wav"),
     "no clean_trainset_28spk_wav/ and clean_testset_wav/"),
])
def test_voicebank_demand_bad_trees_are_one_line(vb_tree, tmp_path, capsys, damage, message):
    damage(vb_tree)
    assert prepare_corpus.main(["voicebank_demand", str(vb_tree), str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err

"""Keyword spotting corpora: the `commands` profile, far-field simulation, the embedded_kws and
speech_commands preparers, `prepare-corpus --opt`, and egs/kws/local/download_and_untar.sh.

Speech Commands is imitated in tmp_path with the real layout; nothing is downloaded.
"""
import collections
import random
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, run
from speechkit.bin import prepare_corpus, synth_corpus
from speechkit.corpus import PREPARERS, kws, profiles, speech_commands
from speechkit.corpus import room as roomsim
from speechkit.data.validate import validate
from speechkit.errors import SpeechkitError
from speechkit.io import AudioTable, read_dict

DOWNLOAD = REPO / "egs" / "kws" / "local" / "download_and_untar.sh"
FAR_SETS = ("test_far_snr20", "test_far_snr10", "test_far_snr0")


def word_like(seconds, seed, sr=16000, at=0.3):
    """A 'word': a 0.3 s burst of harmonics at `at` s inside `seconds` of near-silence."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    x = 1e-4 * rng.standard_normal(n)
    t = np.arange(int(0.3 * sr)) / sr
    burst = sum(np.sin(2 * np.pi * f * t) for f in (200 + 20 * seed, 450, 900)) * np.hanning(len(t))
    start = int(at * sr)
    x[start:start + len(t)] += 0.2 * burst[:max(0, n - start)]
    return x.astype(np.float32)


# ---- the commands profile ----

def test_commands_profile_draws_single_words_keywords_most_often():
    commands = profiles.get_profile("commands")
    rng = random.Random(1)
    draws = [commands(rng) for _ in range(6000)]
    assert all(spoken == text and len(text.split()) == 1 for spoken, text in draws)
    counts = collections.Counter(text for _, text in draws)
    assert set(counts) == set(profiles.COMMAND_KEYWORDS + profiles.COMMAND_OTHER_WORDS)
    share = sum(counts[k] for k in profiles.COMMAND_KEYWORDS) / len(draws)
    assert 0.67 < share < 0.73
    assert min(counts[k] for k in profiles.COMMAND_KEYWORDS) > \
        max(counts[w] for w in profiles.COMMAND_OTHER_WORDS)
    assert len(profiles.COMMAND_KEYWORDS) == 10 and len(profiles.COMMAND_OTHER_WORDS) == 25


def test_labels():
    assert [kws.label_of(w) for w in ("yes", "go", "marvin", "zero", "_silence_")] == \
        ["yes", "go", "_unknown_", "_unknown_", "_silence_"]
    assert kws.LABELS[-2:] == ("_unknown_", "_silence_") and len(kws.LABELS) == 12


def test_fit_clip_centres_the_speech_in_one_second():
    short = word_like(0.6, 0, at=0.05)         # burst at 0.05-0.35 s
    out = kws.fit_clip(short)
    assert len(out) == 16000 and out.dtype == np.float32
    first, last = kws.speech_span(out)
    assert abs((first + last) / 2 - 8000) <= 160
    long = word_like(1.8, 1, at=0.9)           # burst at 0.9-1.2 s of a 1.8 s clip
    out = kws.fit_clip(long)
    first, last = kws.speech_span(out)
    assert len(out) == 16000 and abs((first + last) / 2 - 8000) <= 160
    lo, hi = kws.speech_span(long)
    assert lo > 8000 and np.array_equal(out, long[(lo + hi) // 2 - 8000:(lo + hi) // 2 + 8000])


# ---- far-field simulation ----

@pytest.fixture(scope="module")
def clip():
    return kws.fit_clip(word_like(1.0, 3))


@pytest.mark.parametrize("seed,snr", [(0, 20), (1, 10), (2, 0), (3, 5)])
def test_farfield_length_snr_and_ranges(clip, seed, snr):
    pool = [word_like(1.0, s) for s in range(5, 12)]
    out, info = roomsim.farfield(clip, 16000, np.random.default_rng(seed), snr, babble_pool=pool)
    assert out.shape == clip.shape and out.dtype == np.float32
    assert np.max(np.abs(out)) <= roomsim.PEAK + 1e-6
    rev, rinfo = roomsim.farfield(clip, 16000, np.random.default_rng(seed), None)
    assert rinfo["rt60"] == info["rt60"] and rinfo["distance"] == info["distance"]
    noise = out / info["scale"] - rev
    measured = 10 * np.log10(roomsim.power(rev) / roomsim.power(noise))
    assert abs(measured - snr) < 1.0, (measured, info)
    assert 0.2 <= info["rt60"] <= 0.8 and 1.0 <= info["distance"] <= 5.0
    assert info["snr"] == snr and info["noise"] in roomsim.NOISE_KINDS


def test_farfield_is_deterministic_for_a_seed(clip):
    a, ia = roomsim.farfield(clip, 16000, np.random.default_rng(7), 10)
    b, ib = roomsim.farfield(clip, 16000, np.random.default_rng(7), 10)
    c, _ = roomsim.farfield(clip, 16000, np.random.default_rng(8), 10)
    assert np.array_equal(a, b) and ia == ib
    assert not np.array_equal(a, c)


def test_rooms_keep_their_geometry_and_decay():
    import pyroomacoustics as pra
    rng = np.random.default_rng(0)
    for room in roomsim.make_rooms(rng, 6, rt60_range=(0.3, 0.6), distance_range=(2.0, 3.0)):
        dims, mic, src = map(np.asarray, (room.dims, room.mic, room.source))
        assert np.all(dims >= (3, 3, 2.5)) and np.all(dims <= (8, 8, 3.5))
        margin = roomsim.WALL_MARGIN
        for point in (mic, src):
            assert np.all(point >= margin) and np.all(point <= dims - margin)
        assert abs(np.linalg.norm(mic - src) - room.distance) < 1e-9
        assert 0.3 <= room.rt60 <= 0.6 and 2.0 <= room.distance <= 3.0
        assert room.max_order <= roomsim.MAX_ORDER
        measured = pra.experimental.measure_rt60(room.rir, fs=16000, decay_db=30)
        assert 0.5 * room.rt60 < measured < 2 * room.rt60


def test_reverberation_keeps_the_direct_path_in_place():
    click = np.zeros(16000, dtype=np.float32)
    click[8000] = 1.0
    room = roomsim.draw_room(np.random.default_rng(4), 16000)
    out = roomsim.reverberate(click, room)
    assert len(out) == 16000
    # Next to nothing before the direct path (the fractional-delay filter rings 40 samples
    # ahead, pyroomacoustics' zero-phase 10 Hz high-pass leaves a slow ramp), and at 1 m
    # reference the direct path has about 1/distance gain.
    assert np.max(np.abs(out[:8000 - 41])) < 0.02 * np.max(np.abs(out))
    assert abs(np.max(np.abs(out[7999:8002])) - 1 / room.distance) < 0.35 / room.distance


def test_noise_kinds():
    rng = np.random.default_rng(0)
    pool = [word_like(1.0, s) for s in range(8)]
    spectra = {}
    for kind in roomsim.NOISE_KINDS:
        x = roomsim.make_noise(kind, 16000, rng, 16000, pool)
        assert x.shape == (16000,) and np.all(np.isfinite(x))
        assert abs(roomsim.power(x) - 1) < 1e-3
        spectra[kind] = np.abs(np.fft.rfft(x)) ** 2
    # Energy at 20-500 Hz over 4-8 kHz (1 Hz bins).
    low = {k: s[20:500].sum() / s[4000:8000].sum() for k, s in spectra.items()}
    assert low["white"] < low["pink"] < low["brown"]
    with pytest.raises(SpeechkitError, match="babble"):
        roomsim.make_noise("babble", 100, rng)
    with pytest.raises(SpeechkitError, match="unknown noise kind"):
        roomsim.make_noise("traffic", 100, rng)


# ---- embedded_kws ----

@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """A tiny commands corpus (4 speakers x 8 words) prepared with augmentation, few rooms."""
    base = tmp_path_factory.mktemp("kws")
    corpus = base / "corpus"
    assert synth_corpus.main(["--profile", "commands", "--num-speakers", "4", "--dev-speakers", "1",
                              "--test-speakers", "1", "--utts-per-speaker", "8", "--seed", "2",
                              "--nj", "1", str(corpus)]) == 0
    data = base / "data"
    assert prepare_corpus.main(["embedded_kws", str(corpus), str(data), "--opt", "augment=true",
                                "--opt", "num_rooms=4"]) == 0
    return corpus, data


def test_embedded_kws_dirs_validate_with_1s_clips(embedded):
    _, data = embedded
    for name in ("train", "train_multi", "dev", "test_near") + FAR_SETS:
        d = data / name
        assert validate(d, no_feats=True) == [], name
        text, words = read_dict(d / "text"), read_dict(d / "utt2word")
        assert set(text.values()) <= set(kws.LABELS)
        assert all(kws.label_of(words[u]) == label for u, label in text.items())
        assert set(read_dict(d / "utt2dur").values()) == {"1.0000"}
        for utt, wav, sr in AudioTable(d / "wav.scp", sample_rate=16000).items():
            assert len(wav) == 16000, (name, utt)
        for utt, path in read_dict(d / "wav.scp").items():
            # train_multi's near-field half is train's files
            home = "train_multi" if utt.startswith("rvb1-") else name.replace("_multi", "")
            assert Path(path).is_absolute() and Path(path).parent == data.resolve() / "wav" / home


def test_embedded_kws_splits_silence_and_far_sets(embedded):
    _, data = embedded
    spk = {n: set(read_dict(data / n / "utt2spk").values()) - {"sil"}
           for n in ("train", "dev", "test_near")}
    assert spk["train"] == {"s001", "s002"}
    assert spk["dev"] == {"s003"} and spk["test_near"] == {"s004"}
    near = read_dict(data / "test_near" / "text")
    assert [u for u, t in near.items() if t == "_silence_"] == ["sil-0001"]   # 8 words -> 1 silence
    for name in FAR_SETS:
        assert read_dict(data / name / "text") == near
        room = read_dict(data / name / "utt2room")
        assert list(room) == list(near)
        for value in room.values():
            fields = dict(kv.split("=") for kv in value.split(","))
            assert 0.2 <= float(fields["rt60"]) <= 0.8 and 1.0 <= float(fields["dist"]) <= 5.0
            assert fields["snr"] == name.rsplit("snr", 1)[1]
            assert int(fields["room"]) < 4
    # The SNR sets differ only in the noise level: same room and noise kind per utterance.
    strip = [{u: v.split("snr=")[0] + v.split(",", 3)[3] for u, v in
              read_dict(data / n / "utt2room").items()} for n in FAR_SETS]
    assert strip[0] == strip[1] == strip[2]


def test_embedded_kws_augmentation(embedded):
    _, data = embedded
    utt2spk = read_dict(data / "train_multi" / "utt2spk")
    near = [u for u in utt2spk if not u.startswith("rvb1-")]
    copies = [u for u in utt2spk if u.startswith("rvb1-")]
    assert near == list(read_dict(data / "train" / "utt2spk"))   # train stays near field
    assert "utt2room" not in {p.name for p in (data / "train").iterdir()}
    assert sorted(copies) == sorted(f"rvb1-{u}" for u in near)
    assert all(utt2spk[f"rvb1-{u}"] == f"rvb1-{utt2spk[u]}" for u in near)
    room = read_dict(data / "train_multi" / "utt2room")
    assert all(room[u] == "near" for u in near)
    snrs = [float(dict(kv.split("=") for kv in room[u].split(","))["snr"]) for u in copies]
    assert all(10 <= s <= 30 for s in snrs)


def test_embedded_kws_is_deterministic_and_rerun_drops_augmentation(embedded, tmp_path):
    corpus, data = embedded
    again = tmp_path / "again"
    counts = kws.prepare(corpus, again, num_rooms=4, snrs=(20, 10, 0), augment=True)
    assert counts["train_multi"] == 2 * counts["train"] == len(read_dict(data / "train_multi" / "text"))
    for name in ("test_near",) + FAR_SETS:
        for utt in list(read_dict(data / name / "text"))[:5]:
            a = (data / "wav" / name / f"{utt}.wav").read_bytes()
            assert (again / "wav" / name / f"{utt}.wav").read_bytes() == a, (name, utt)
    for utt in [u for u in read_dict(data / "train_multi" / "text") if u.startswith("rvb1-")][:5]:
        a = (data / "wav" / "train_multi" / f"{utt}.wav").read_bytes()
        assert (again / "wav" / "train_multi" / f"{utt}.wav").read_bytes() == a, utt
    kws.prepare(corpus, again, num_rooms=2, snrs=(5,))      # other SNRs: the old sets go
    assert not (again / "train_multi").exists() and not (again / "wav" / "train_multi").exists()
    assert sorted(p.name for p in again.glob("test_far*")) == ["test_far_snr5"]
    assert sorted(p.name for p in (again / "wav").glob("test_far*")) == ["test_far_snr5"]


def test_embedded_kws_rejects_a_sentence_corpus(tmp_path):
    src = tmp_path / "c"
    src.mkdir()
    header = "utt speaker split text style voice accent rate pitch range volume duration path"
    row = ["s001-0000", "s001", "train", "one two", "neutral", "m1", "en", "175", "50", "50",
           "100", "0.5000", "wav/s001-0000.wav"]
    (src / "manifest.tsv").write_text(header.replace(" ", "\t") + "\n" + "\t".join(row) + "\n")
    with pytest.raises(SpeechkitError, match="--profile commands"):
        kws.prepare(src, tmp_path / "data")


# ---- prepare-corpus --opt ----

def test_opt_values_follow_the_defaults_types():
    fn = PREPARERS["embedded_kws"]
    got = prepare_corpus.parse_opts("embedded_kws", fn, [
        "augment=yes", "snrs=15,5,-5", "seed=3", "augment_snr=5,7.5", "silence-fraction=0.2"])
    assert got == {"augment": True, "snrs": (15, 5, -5), "seed": 3, "augment_snr": (5.0, 7.5),
                   "silence_fraction": 0.2}
    assert prepare_corpus.parse_opts("x", fn, ["snrs=7.5"]) == {"snrs": (7.5,)}


@pytest.mark.parametrize("opt,message", [
    ("nope=1", "has no option 'nope'; its options (with defaults): seed=0 snrs=20,10,0"),
    ("augment=maybe", "--opt augment=maybe: bad value"),
    ("seed", "expected NAME=VALUE"),
])
def test_bad_opts_are_one_line(tmp_path, capsys, opt, message):
    argv = ["embedded_kws", str(tmp_path), str(tmp_path / "d"), "--opt", opt]
    assert prepare_corpus.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


# ---- speech_commands ----

# 4 speakers; c50f55b8 is the test speaker, ffd2ba2f the dev speaker (as the lists say).
SPEAKERS = ("0a7c2a8d", "1b4c9b89", "c50f55b8", "ffd2ba2f")
WORDS = ("bed", "marvin", "no", "up", "yes")


def clip_names():
    """'word/speaker_nohash_n.wav' of the fixture: every speaker says every word, some twice."""
    names = []
    for w, word in enumerate(WORDS):
        for s, spk in enumerate(SPEAKERS):
            for n in range(1 + (w + s) % 2):
                names.append(f"{word}/{spk}_nohash_{n}.wav")
    return sorted(names)


@pytest.fixture
def commands_tree(tmp_path):
    root = tmp_path / "speech_commands"
    for i, name in enumerate(clip_names()):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        seconds = 0.75 if i % 5 == 0 else 1.0    # some clips are shorter, as in the corpus
        sf.write(str(root / name), word_like(seconds, i), 16000, subtype="PCM_16")
    noise = root / "_background_noise_"
    noise.mkdir()
    rng = np.random.default_rng(0)
    sf.write(str(noise / "white_noise.wav"), 0.1 * rng.standard_normal(16000 * 15), 16000,
             subtype="PCM_16")
    sf.write(str(noise / "running_tap.wav"), 0.05 * rng.standard_normal(16000 * 12), 16000,
             subtype="PCM_16")
    (noise / "README.md").write_text("These files are longer sounds...\n")
    for list_name, speaker in (("testing_list.txt", "c50f55b8"),
                               ("validation_list.txt", "ffd2ba2f")):
        (root / list_name).write_text("".join(f"{n}\n" for n in clip_names() if speaker in n))
    (root / "README.md").write_text("Speech Commands Data Set v0.02\n")
    (root / "LICENSE").write_text("Creative Commons BY 4.0\n")
    (root / ".DS_Store").write_bytes(b"\0")
    return root


def sc_utt(name):
    word, rest = name.split("/")
    spk, _, n = rest[:-4].split("_")
    return f"{spk}-{word}-{n}"


def test_speech_commands_official_split_and_labels(commands_tree, tmp_path):
    data = tmp_path / "data"
    assert prepare_corpus.main(["speech_commands", str(commands_tree), str(data)]) == 0
    names = clip_names()
    expect = {"test": [n for n in names if "c50f55b8" in n],
              "dev": [n for n in names if "ffd2ba2f" in n],
              "train": [n for n in names if "c50f55b8" not in n and "ffd2ba2f" not in n]}
    for split, part in expect.items():
        d = data / split
        assert validate(d, no_feats=True) == [], split
        text, utt2spk = read_dict(d / "text"), read_dict(d / "utt2spk")
        words = [u for u in text if not u.startswith("sil-")]
        assert sorted(words) == sorted(sc_utt(n) for n in part)
        n_sil = len(text) - len(words)
        assert n_sil == round(len(words) / 9) and n_sil >= 1
        for utt in words:
            spk, word, _ = utt.split("-")
            assert utt2spk[utt] == spk
            assert text[utt] == (word if word in ("no", "up", "yes") else "_unknown_")
            assert read_dict(d / "utt2word")[utt] == word
        silence = [u for u in text if u.startswith("sil-")]
        assert all(text[u] == "_silence_" and utt2spk[u] == "sil" for u in silence)


def test_speech_commands_audio_through_segments(commands_tree, tmp_path):
    data = tmp_path / "data"
    speech_commands.prepare(commands_tree, data)
    durations = {"noise-white_noise": 15.0, "noise-running_tap": 12.0}
    parts = speech_commands.NOISE_PARTS
    for split in ("train", "dev", "test"):
        d = data / split
        segments = read_dict(d / "segments")
        utt2dur = read_dict(d / "utt2dur")
        seen_recs = set()
        for utt, wav, sr in AudioTable(d / "wav.scp", d / "segments", 16000).items():
            if utt.startswith("sil-"):
                rec, start, end = segments[utt].split()
                seen_recs.add(rec)
                assert len(wav) == 16000 and np.std(wav) > 0.01
                lo, hi = (f * durations[rec] for f in parts[split])
                assert lo <= float(start) and float(end) <= hi + 1e-6
            else:
                assert segments[utt] == f"{utt} 0 -1"
                assert len(wav) in (12000, 16000)
                assert abs(len(wav) / 16000 - float(utt2dur[utt])) < 1e-4
        if split == "train":                        # round-robin over both recordings
            assert seen_recs == set(durations)
        assert {k for k in read_dict(d / "wav.scp") if k.startswith("noise-")} == seen_recs


def test_speech_commands_farfield_test_sets(commands_tree, tmp_path):
    data = tmp_path / "data"
    assert prepare_corpus.main(["speech_commands", str(commands_tree), str(data), "--opt",
                                "farfield=true", "--opt", "num_rooms=2", "--opt", "snrs=10,0"]) == 0
    test = read_dict(data / "test" / "text")
    for name in ("test_far_snr10", "test_far_snr0"):
        assert validate(data / name, no_feats=True) == []
        assert read_dict(data / name / "text") == test
        for utt, wav, _ in AudioTable(data / name / "wav.scp", sample_rate=16000).items():
            assert len(wav) == 16000


def test_speech_commands_augmentation_and_stale_far_sets(commands_tree, tmp_path):
    data = tmp_path / "data"
    speech_commands.prepare(commands_tree, data, farfield=True, snrs=(5,), num_rooms=2)
    assert (data / "test_far_snr5").is_dir() and (data / "wav" / "test_far_snr5").is_dir()
    counts = speech_commands.prepare(commands_tree, data, augment=True, num_rooms=2)
    assert not list(data.glob("test_far*")) and not list((data / "wav").glob("test_far*"))
    d = data / "train_multi"
    assert validate(d, no_feats=True) == []
    utt2spk, room = read_dict(d / "utt2spk"), read_dict(d / "utt2room")
    near = [u for u in utt2spk if not u.startswith("rvb1-")]
    assert near == list(read_dict(data / "train" / "utt2spk"))
    assert counts["train_multi"] == len(utt2spk) == 2 * len(near) == 2 * counts["train"]
    assert all(utt2spk[f"rvb1-{u}"] == f"rvb1-{utt2spk[u]}" and room[u] == "near" for u in near)
    segments = read_dict(d / "segments")
    audio = AudioTable(d / "wav.scp", d / "segments", 16000)
    for u in near:
        assert segments[f"rvb1-{u}"] == f"rvb1-{u} 0 -1"
        assert len(audio[f"rvb1-{u}"][0]) == 16000
    speech_commands.prepare(commands_tree, data)
    assert not d.exists() and not (data / "wav" / "train_multi").exists()
    assert "utt2room" not in {p.name for p in (data / "train").iterdir()}


def test_speech_commands_bad_trees_are_one_line_errors(commands_tree, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_corpus.main(["speech_commands", str(empty), str(tmp_path / "d")]) == 1
    (commands_tree / "yes" / "c50f55b8_nohash_0.wav").unlink()
    assert prepare_corpus.main(["speech_commands", str(commands_tree), str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert "testing_list.txt" in err[0] and "download_and_untar.sh" in err[0]
    lineno = [n for n in clip_names() if "c50f55b8" in n].index("yes/c50f55b8_nohash_0.wav") + 1
    assert f"testing_list.txt:{lineno}: yes/c50f55b8_nohash_0.wav is listed but not in" in err[1]


def test_speech_commands_finds_a_single_subdirectory(commands_tree, tmp_path):
    assert speech_commands.find_root(commands_tree.parent) == commands_tree


# ---- local/download_and_untar.sh (never downloads here) ----

def test_download_usage_and_unknown_corpus(tmp_path):
    out = run(f"{DOWNLOAD} librispeech {tmp_path}/x", check=False)
    assert out.returncode != 0 and "unknown corpus 'librispeech'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and not (tmp_path / "x").exists()
    assert run(f"{DOWNLOAD} speech_commands", check=False).returncode != 0


def test_download_unpacks_an_archive_already_there(commands_tree, tmp_path):
    dest = tmp_path / "dl"
    dest.mkdir()
    with tarfile.open(dest / "speech_commands_v0.02.tar.gz", "w:gz") as tar:
        for path in sorted(commands_tree.iterdir()):     # no top-level dir, like the real one
            tar.add(path, arcname=path.name)
    out = run(f"{DOWNLOAD} --url http://127.0.0.1:9/none.tar.gz speech_commands {dest}")
    assert (dest / ".done").is_file() and (dest / "testing_list.txt").is_file()
    assert f"{len(clip_names())} word clips" in out.stderr and "expected 105829" in out.stderr
    assert "already" in run(f"{DOWNLOAD} speech_commands {dest}").stderr
    assert speech_commands.prepare(dest, tmp_path / "data")["test"] > 0


def test_download_failure_is_reported(tmp_path):
    out = run(f"{DOWNLOAD} --url http://127.0.0.1:9/none.tar.gz speech_commands {tmp_path}/y",
              check=False)
    assert out.returncode != 0
    assert "error: could not download http://127.0.0.1:9/none.tar.gz" in out.stderr
    assert not (tmp_path / "y" / ".done").exists()

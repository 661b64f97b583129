"""Speaker-recognition corpora: trial lists, the embedded_speaker preparer, and the Mini
LibriSpeech, VoxCeleb1 and TIMIT preparers on fixture trees with the real layouts and names.

Nothing is downloaded: every real corpus is imitated in tmp_path with tiny synthetic audio.
"""
import itertools
import logging
import random
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from conftest import write_tone
from speechkit.bin import prepare_corpus, synth_corpus
from speechkit.corpus import PREPARERS, mini_librispeech, speaker, timit, voxceleb1
from speechkit.corpus.manifest import write_manifest
from speechkit.data import trials as tr
from speechkit.data.validate import validate
from speechkit.errors import SpeechkitError
from speechkit.io import AudioTable, read_dict


def utt2spk_of(sizes):
    """{utt: spk} for speakers s0, s1, ... with the given numbers of utterances."""
    return {f"s{i}-{j:02d}": f"s{i}" for i, n in enumerate(sizes) for j in range(n)}


def check_trials(trials, utt2spk, n=None):
    """The invariants of a balanced trial list made for this set."""
    labels = Counter(label for _, _, label in trials)
    if n is not None:
        assert len(trials) == n and labels["target"] == labels["nontarget"] == n // 2
    pairs = [frozenset((a, b)) for a, b, _ in trials]
    assert len(set(pairs)) == len(pairs)                     # no pair twice, either order
    for a, b, label in trials:
        assert a != b and a in utt2spk and b in utt2spk
        assert label == ("target" if utt2spk[a] == utt2spk[b] else "nontarget")


# ---- speechkit.data.trials ----

def test_trials_balanced_spread_and_within_the_set():
    utt2spk = utt2spk_of([6, 5, 7, 6])
    trials = tr.make_trials(utt2spk, 40, seed=3)
    check_trials(trials, utt2spk, 40)
    assert trials == sorted(trials)
    per_speaker = Counter(utt2spk[a] for a, _, label in trials if label == "target")
    assert max(per_speaker.values()) - min(per_speaker.values()) <= 1   # 20 over 4 speakers
    per_pair = Counter(frozenset((utt2spk[a], utt2spk[b])) for a, b, label in trials
                       if label == "nontarget")
    assert len(per_pair) == 6 and max(per_pair.values()) - min(per_pair.values()) <= 1
    # Orientation is a coin flip, not always the smaller id first.
    assert any(a > b for a, b, _ in trials) and any(a < b for a, b, _ in trials)


def test_trials_deterministic_and_independent_of_dict_order():
    utt2spk = utt2spk_of([4, 4, 4, 4, 4])
    shuffled = list(utt2spk.items())
    random.Random(0).shuffle(shuffled)
    a = tr.make_trials(utt2spk, 30, seed=7)
    assert tr.make_trials(dict(shuffled), 30, seed=7) == a
    assert tr.make_trials(utt2spk, 30, seed=8) != a


def test_trials_at_capacity_are_every_pair():
    # Hand count: speakers of 2 and 3 utterances have 1 + 3 target pairs and 2 * 3 = 6
    # non-target pairs, so a balanced list holds at most 8 trials.
    utt2spk = utt2spk_of([2, 3])
    assert tr.capacity(utt2spk) == (4, 6) and tr.max_trials(utt2spk) == 8
    trials = tr.make_trials(utt2spk, 8, seed=1)
    targets = {frozenset((a, b)) for a, b, label in trials if label == "target"}
    assert targets == {frozenset(p) for p in [("s0-00", "s0-01"), ("s1-00", "s1-01"),
                                              ("s1-00", "s1-02"), ("s1-01", "s1-02")]}
    with pytest.raises(SpeechkitError, match="at most 8 trials"):
        tr.make_trials(utt2spk, 10)


def test_trials_capacity_matches_enumeration():
    utt2spk = utt2spk_of([1, 4, 2, 5])
    pairs = list(itertools.combinations(sorted(utt2spk), 2))
    same = sum(utt2spk[a] == utt2spk[b] for a, b in pairs)
    assert tr.capacity(utt2spk) == (same, len(pairs) - same)
    everything = tr.make_trials(utt2spk, 2 * same, seed=0)
    assert {frozenset((a, b)) for a, b, lab in everything if lab == "target"} == \
        {frozenset(p) for p in pairs if utt2spk[p[0]] == utt2spk[p[1]]}


def test_sample_indices_is_a_permutation_when_all_are_drawn():
    draws = tr.sample_indices(random.Random(0), 50, 50)
    assert sorted(draws) == list(range(50)) and draws != list(range(50))
    assert len(set(tr.sample_indices(random.Random(1), 10**9, 1000))) == 1000


def test_trials_file_round_trip_and_errors(tmp_path):
    utt2spk = utt2spk_of([3, 3])
    trials = tr.make_trials(utt2spk, 6, seed=0)
    path = tmp_path / "trials"
    tr.write_trials(path, trials)
    assert path.read_text().splitlines()[0].split() == list(trials[0])
    assert tr.read_trials(path, utts=utt2spk) == trials
    with pytest.raises(SpeechkitError, match="not an utterance of the data dir"):
        tr.read_trials(path, utts=["s0-00"])
    path.write_text("s0-00 s0-01 target\ns0-00 s1-01 same\n")
    with pytest.raises(SpeechkitError, match=r"trials:2: expected"):
        tr.read_trials(path)


# ---- embedded_speaker ----

def fake_corpus(root, num_speakers, utts=3):
    """A manifest (+ tiny wavs) like synth-corpus writes for --profile sentences."""
    (root / "wav").mkdir(parents=True)
    rows = []
    for s in range(num_speakers):
        spk = f"s{s + 1:03d}"
        for i in range(utts):
            utt = f"{spk}-{i:04d}"
            write_tone(root / "wav" / f"{utt}.wav", seconds=0.02, seed=s)
            rows.append(dict(utt=utt, speaker=spk, split="train", text="the old man found a map",
                             style="neutral", voice=f"v{s % 30}", accent="en", rate=175,
                             pitch=50, range=50, volume=100, duration=0.02,
                             path=f"wav/{utt}.wav"))
    write_manifest(root / "manifest.tsv", rows)
    return root


def speakers_of(d):
    return set(read_dict(d / "utt2spk").values())


def test_embedded_speaker_default_splits_and_trials(tmp_path, caplog):
    src = fake_corpus(tmp_path / "corpus", 50)
    data = tmp_path / "data"
    with caplog.at_level(logging.INFO):
        counts = speaker.prepare(src, data, num_trials=200)
    assert counts == {"train": 18, "dev": 12, "test": 120}
    spk = {name: speakers_of(data / name) for name in ("train", "dev", "test")}
    assert len(spk["test"]) == 40 and len(spk["dev"]) == 4 and len(spk["train"]) == 6
    assert spk["test"] == {f"s{i:03d}" for i in range(11, 51)}          # the last ids
    assert not (spk["train"] & spk["dev"] or spk["train"] & spk["test"] or spk["dev"] & spk["test"])
    # Voices v0..v29 repeat from s031 on: s031..s036 (test) share them with s001..s006 (train).
    assert "6 dev/test speakers share their eSpeak voice variant" in caplog.text
    for name in ("train", "dev", "test"):
        assert validate(data / name, no_feats=True) == [], name
    assert not (data / "train" / "trials").exists()
    test_trials = tr.read_trials(data / "test" / "trials")
    check_trials(test_trials, read_dict(data / "test" / "utt2spk"), 200)
    dev_trials = tr.read_trials(data / "dev" / "trials")    # 4 x 3 utts: 12 target pairs
    check_trials(dev_trials, read_dict(data / "dev" / "utt2spk"), 24)
    assert read_dict(data / "test" / "utt2style")["s050-0002"] == "neutral"


def test_embedded_speaker_is_deterministic_and_follows_the_seed(tmp_path):
    src = fake_corpus(tmp_path / "corpus", 12)
    opts = dict(dev_speakers=2, test_speakers=4, num_trials=40)
    speaker.prepare(src, tmp_path / "a", **opts)
    speaker.prepare(src, tmp_path / "b", **opts)
    speaker.prepare(src, tmp_path / "c", seed=1, **opts)
    for name in ("train", "dev", "test"):
        for f in (tmp_path / "a" / name).iterdir():
            assert (tmp_path / "b" / name / f.name).read_bytes() == f.read_bytes(), f
    a = (tmp_path / "a" / "test" / "trials").read_text()
    assert (tmp_path / "c" / "test" / "trials").read_text() != a


def test_embedded_speaker_bad_options(tmp_path, capsys):
    src = fake_corpus(tmp_path / "corpus", 10)
    with pytest.raises(SpeechkitError, match="leave no training speaker"):
        speaker.prepare(src, tmp_path / "d")          # 40 test speakers of 10
    with pytest.raises(SpeechkitError, match=r"must be >= 2, as their trials need two speakers"):
        speaker.prepare(src, tmp_path / "data", dev_speakers=1, test_speakers=2)
    one = tmp_path / "one_dev"
    speaker.write_set(one, "dev", {"utt2spk": {"s001-0000": "s001", "s001-0001": "s001"}})
    with pytest.raises(SpeechkitError, match=r"one_dev/dev: a single speaker"):
        speaker.write_made_trials(one, "dev", {"s001-0000": "s001", "s001-0001": "s001"}, 10, 0)
    single = fake_corpus(tmp_path / "one", 8, utts=1)
    with pytest.raises(SpeechkitError, match="every speaker has a single utterance"):
        speaker.prepare(single, tmp_path / "d", dev_speakers=2, test_speakers=2)
    assert prepare_corpus.main(["embedded_speaker", str(tmp_path / "none"),
                                str(tmp_path / "d")]) == 1
    assert "synth-corpus" in capsys.readouterr().err


def test_embedded_speaker_on_a_synthesised_sentences_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    assert synth_corpus.main(["--profile", "sentences", "--num-speakers", "6", "--dev-speakers",
                              "2", "--test-speakers", "2", "--utts-per-speaker", "3", "--nj", "1",
                              str(corpus)]) == 0
    data = tmp_path / "data"
    assert prepare_corpus.main(["embedded_speaker", str(corpus), str(data), "--opt",
                                "dev_speakers=2", "--opt", "test_speakers=2"]) == 0
    # Same counts as synth-corpus: the manifest's own split.
    assert speakers_of(data / "test") == {"s005", "s006"}
    assert speakers_of(data / "dev") == {"s003", "s004"}
    for name in ("train", "dev", "test"):
        assert validate(data / name, no_feats=True) == []
    # 2 speakers x 3 utterances: 6 target pairs, so 12 trials of the 2000 asked.
    check_trials(tr.read_trials(data / "test" / "trials"), read_dict(data / "test" / "utt2spk"), 12)
    assert "embedded_speaker" in PREPARERS


# ---- Mini LibriSpeech ----

LIBRI_TRAIN = {"103": ["1240"], "1034": ["121119"], "1088": ["134315", "129236"]}
LIBRI_DEV = {"1272": ["128104"], "174": ["50561", "84280"], "2412": ["153948"],
             "251": ["136532"], "84": ["121123"]}
GENDERS = {"103": "F", "1034": "M", "1088": "F", "1272": "M", "174": "M", "2412": "F",
           "251": "M", "84": "F"}


def write_libri_part(root, part, speakers, per_chapter=4):
    for s, (spk, chapters) in enumerate(speakers.items()):
        for chapter in chapters:
            d = root / "LibriSpeech" / part / spk / chapter
            d.mkdir(parents=True)
            lines = []
            for i in range(per_chapter):
                utt = f"{spk}-{chapter}-{i:04d}"
                sf.write(str(d / f"{utt}.flac"), 0.1 * np.sin(np.arange(800 + 10 * i) / (3 + s)),
                         16000, subtype="PCM_16")
                lines.append(f"{utt} HE HOPED THERE WOULD BE STEW FOR DINNER\n")
            (d / f"{spk}-{chapter}.trans.txt").write_text("".join(lines))


@pytest.fixture
def libri_tree(tmp_path):
    root = tmp_path / "mini_librispeech"
    write_libri_part(root, "train-clean-5", LIBRI_TRAIN)
    write_libri_part(root, "dev-clean-2", LIBRI_DEV)
    (root / "LibriSpeech" / "SPEAKERS.TXT").write_text(
        "; Some speakers read in more than one subset\n;ID  |SEX| SUBSET           |MINUTES| NAME\n"
        + "".join(f"{k:<5}| {v} | dev-clean        | 8.08 | Reader {k}\n"
                  for k, v in GENDERS.items()))
    (root / "LibriSpeech" / "README.TXT").write_text("LibriSpeech ASR corpus\n")
    return root


def test_mini_librispeech_sets(libri_tree, tmp_path):
    data = tmp_path / "data"
    assert prepare_corpus.main(["mini_librispeech", str(libri_tree), str(data), "--opt",
                                "dev_speakers=2", "--opt", "num_trials=20"]) == 0
    spk = {name: speakers_of(data / name) for name in ("train", "dev", "test")}
    assert spk["train"] == set(LIBRI_TRAIN)
    assert len(spk["dev"]) == 2 and spk["dev"] | spk["test"] == set(LIBRI_DEV)
    assert not spk["dev"] & spk["test"]
    for name in ("train", "dev", "test"):
        d = data / name
        assert validate(d, no_feats=True) == [], name
        utt2spk = read_dict(d / "utt2spk")
        assert all(u.startswith(f"{s}-") for u, s in utt2spk.items())
        assert read_dict(d / "spk2gender") == {s: GENDERS[s].lower() for s in spk[name]}
    test_utt2spk = read_dict(data / "test" / "utt2spk")
    check_trials(tr.read_trials(data / "test" / "trials"), test_utt2spk, 20)
    assert read_dict(data / "train" / "text")["1088-129236-0002"] == \
        "HE HOPED THERE WOULD BE STEW FOR DINNER"


def test_mini_librispeech_reads_flac_directly(libri_tree, tmp_path):
    data = tmp_path / "data"
    mini_librispeech.prepare(libri_tree, data, dev_speakers=2)
    wav_scp = read_dict(data / "train" / "wav.scp")
    assert wav_scp["103-1240-0001"].endswith("103/1240/103-1240-0001.flac")
    wav, sr = AudioTable(data / "train" / "wav.scp", sample_rate=16000)["103-1240-0001"]
    expect, _ = sf.read(str(libri_tree / "LibriSpeech/train-clean-5/103/1240/103-1240-0001.flac"),
                        dtype="float32")
    assert sr == 16000 and np.array_equal(wav, expect)
    assert read_dict(data / "train" / "utt2dur")["103-1240-0001"] == f"{810 / 16000:.4f}"
    gender = read_dict(data / "dev" / "spk2gender")
    assert set(gender) == speakers_of(data / "dev")


def test_mini_librispeech_bad_trees(libri_tree, tmp_path, caplog):
    chapter = libri_tree / "LibriSpeech/dev-clean-2/174/50561"
    write_tone(chapter / "174-50561-0099.flac", seconds=0.05)       # no transcript line
    with caplog.at_level(logging.WARNING):
        mini_librispeech.prepare(libri_tree, tmp_path / "d", dev_speakers=2)
    assert "174-50561-0099.flac" in caplog.text
    with pytest.raises(SpeechkitError, match="dev-clean-2 has 5 speakers; give 2..3"):
        mini_librispeech.prepare(libri_tree, tmp_path / "d", dev_speakers=4)
    (chapter / "174-50561-0001.flac").unlink()
    with pytest.raises(SpeechkitError, match=r"174-50561.trans.txt:2 \(key 174-50561-0001\): "
                                             r"no 174-50561-0001.flac"):
        mini_librispeech.prepare(libri_tree, tmp_path / "d", dev_speakers=2)
    with pytest.raises(SpeechkitError, match="openslr 31"):
        mini_librispeech.prepare(tmp_path, tmp_path / "d")


# ---- VoxCeleb1 ----

VOX = {"id10001": ["1zcIwhmdeo4", "7gWzIy6yIIk"], "id10002": ["0_laIeN-Q44"],
       "id10003": ["-5Rd6zu7Pe8", "BQxxhq4539A"], "id10004": ["2JqNmbUqOxY"],
       "id10270": ["5r0dWxy17C8", "x6uYqmx31kE"], "id10271": ["1gtz-CUIygI"],
       "id10272": ["8jEAjG6SegY", "Uuts88Fx5jY"]}
VERI = ["1 id10270/x6uYqmx31kE/00001.wav id10270/5r0dWxy17C8/00002.wav",
        "0 id10270/x6uYqmx31kE/00001.wav id10272/8jEAjG6SegY/00001.wav",
        "1 id10271/1gtz-CUIygI/00002.wav id10271/1gtz-CUIygI/00001.wav",
        "0 id10272/Uuts88Fx5jY/00002.wav id10271/1gtz-CUIygI/00001.wav"]


@pytest.fixture
def vox_tree(tmp_path):
    root = tmp_path / "voxceleb1"
    for s, (spk, videos) in enumerate(VOX.items()):
        for video in videos:
            d = root / "wav" / spk / video
            d.mkdir(parents=True)
            for n in (1, 2):
                write_tone(d / f"{n:05d}.wav", seconds=0.03, seed=s)
    (root / "veri_test2.txt").write_text("".join(f"{line}\n" for line in VERI))
    return root


def test_voxceleb1_sets_and_official_trials(vox_tree, tmp_path):
    data = tmp_path / "data"
    assert prepare_corpus.main(["voxceleb1", str(vox_tree), str(data), "--opt", "dev_speakers=2",
                                "--opt", "num_trials=8"]) == 0
    spk = {name: speakers_of(data / name) for name in ("train", "dev", "test")}
    assert spk["test"] == {"id10270", "id10271", "id10272"}
    assert len(spk["dev"]) == 2 and spk["dev"] | spk["train"] == {f"id1000{i}" for i in range(1, 5)}
    assert not spk["dev"] & spk["train"]
    for name in ("train", "dev", "test"):
        assert validate(data / name, no_feats=True) == [], name
    test = read_dict(data / "test" / "utt2spk")
    assert len(test) == 10 and test["id10270-x6uYqmx31kE-00001"] == "id10270"
    assert read_dict(data / "test" / "wav.scp")["id10271-1gtz-CUIygI-00002"].endswith(
        "wav/id10271/1gtz-CUIygI/00002.wav")
    assert (data / "test" / "trials").read_text().splitlines() == [
        "id10270-x6uYqmx31kE-00001 id10270-5r0dWxy17C8-00002 target",
        "id10270-x6uYqmx31kE-00001 id10272-8jEAjG6SegY-00001 nontarget",
        "id10271-1gtz-CUIygI-00002 id10271-1gtz-CUIygI-00001 target",
        "id10272-Uuts88Fx5jY-00002 id10271-1gtz-CUIygI-00001 nontarget"]
    check_trials(tr.read_trials(data / "dev" / "trials"), read_dict(data / "dev" / "utt2spk"), 8)


def test_voxceleb1_bad_trial_lists(vox_tree, tmp_path):
    with pytest.raises(SpeechkitError, match="no trial list"):
        voxceleb1.prepare(vox_tree, tmp_path / "d", trial_list="veri_test.txt", dev_speakers=2)
    (vox_tree / "veri_test2.txt").write_text(VERI[0] + "\n1 id10270/nope/00001.wav "
                                             "id10270/x6uYqmx31kE/00002.wav\n")
    with pytest.raises(SpeechkitError, match=r"veri_test2.txt:2: id10270/nope/00001.wav is not"):
        voxceleb1.prepare(vox_tree, tmp_path / "d", dev_speakers=2)
    (vox_tree / "veri_test2.txt").write_text("id10270/x6uYqmx31kE/00001.wav\n")
    with pytest.raises(SpeechkitError, match=r"veri_test2.txt:1: expected"):
        voxceleb1.prepare(vox_tree, tmp_path / "d", dev_speakers=2)


# ---- TIMIT ----

# TIMIT's TEST/ speakers of DR1 (11) and DR2 (26), and five of DR3, with their real ids.
TIMIT_TEST = {
    "DR1": "FAKS0 FDAC1 FELC0 FJEM0 MDAB0 MJSW0 MREB0 MRJO0 MSJS1 MSTK0 MWBT0",
    "DR2": "FCMR0 FDRD1 FJAS0 FJRE0 FJWB0 FPAS0 FRAM1 FSLB1 MABW0 MBJK0 MCCS0 MCEM0 MDBB0 "
           "MDLD0 MGWT0 MJAR0 MMDB1 MMDM2 MPDF0 MPGL0 MRCZ0 MRGG0 MTAS1 MTMR0 MWEW0 MWVW0",
    "DR3": "FCMH0 FKMS0 FPKT0 MBWM0 MGJF0"}
TIMIT_TRAIN = {"DR1": "FCJF0 MDPK0", "DR2": "FAEM0"}
# The 40 speakers of the original's clustering experiments (stdm/ZHAW_deep_voice,
# common/data/speaker_lists/speakers_40_final_test.txt), in that file's order.
ZHAW_40 = ("MPGL0 MSTK0 FCMR0 MWBT0 MCEM0 MRGG0 MBJK0 MPDF0 MDAB0 MMDM2 MGWT0 FDAC1 FPKT0 FJAS0 "
           "MCCS0 MMDB1 MDLD0 MJAR0 FAKS0 FELC0 MTAS1 MSJS1 FJEM0 MWEW0 MREB0 FJRE0 MWVW0 FRAM1 "
           "MRCZ0 MABW0 FCMH0 MRJO0 FPAS0 FJWB0 FDRD1 MJSW0 FKMS0 FSLB1 MTMR0 MDBB0").split()
# A speaker's 10 sentences; SX2 sorts between SX182 and SX272 as a file name.
SENTENCES = ("SA1", "SA2", "SI943", "SI1573", "SI2203", "SX2", "SX92", "SX182", "SX272", "SX362")
FIRST_8 = ["SA1", "SA2", "SI1573", "SI2203", "SI943", "SX182", "SX2", "SX272"]


def write_sphere(path, samples, sample_rate=16000):
    """A NIST SPHERE file as on the TIMIT disc: a 1024-byte text header, then 16-bit LE PCM."""
    samples = np.asarray(samples, dtype="<i2")
    fields = [("database_id", "-s5", "TIMIT"), ("database_version", "-s3", "1.0"),
              ("utterance_id", f"-s{len(path.parent.name + path.stem) + 1}",
               f"{path.parent.name[1:].lower()}_{path.stem.lower()}"),
              ("channel_count", "-i", 1), ("sample_count", "-i", len(samples)),
              ("sample_rate", "-i", sample_rate), ("sample_min", "-i", int(samples.min())),
              ("sample_max", "-i", int(samples.max())), ("sample_n_bytes", "-i", 2),
              ("sample_byte_format", "-s2", "01"), ("sample_sig_bits", "-i", 16)]
    header = "NIST_1A\n   1024\n" + "".join(f"{k} {t} {v}\n" for k, t, v in fields) + "end_head\n"
    path.write_bytes(header.encode("ascii").ljust(1024, b" ") + samples.tobytes())


def write_timit(root, test=TIMIT_TEST, train=TIMIT_TRAIN, upper=True):
    case = str.upper if upper else str.lower
    n = 0
    for part, regions in (("TRAIN", train), ("TEST", test)):
        for region, speakers in regions.items():
            for spk in speakers.split():
                d = root / case(part) / case(region) / case(spk)
                d.mkdir(parents=True)
                for sentence in SENTENCES:
                    n += 1
                    samples = (1000 * np.sin(np.arange(400 + n % 7) * 0.01 * (1 + n % 13)))
                    write_sphere(d / case(f"{sentence}.WAV"), samples.astype(np.int16))
                    (d / case(f"{sentence}.TXT")).write_text(
                        f"0 {400 + n % 7} She had your dark suit in greasy wash water all year.\n")
                    if n <= 10:     # the rest of the disc's files, for one speaker
                        (d / case(f"{sentence}.PHN")).write_text("0 3050 h#\n")
    return root


def test_timit_default_protocol_is_the_originals_40(tmp_path):
    root = write_timit(tmp_path / "TIMIT")
    data = tmp_path / "data"
    counts = timit.prepare(root, data, dev_speakers=2, num_trials=100)
    assert counts == {"train": 30, "dev": 20, "test": 400, "test40_a": 320, "test40_b": 80}
    test_spk = speakers_of(data / "test")
    assert test_spk == set(ZHAW_40)
    assert speakers_of(data / "dev") == {"MBWM0", "MGJF0"}
    assert speakers_of(data / "train") == {"FCJF0", "MDPK0", "FAEM0"}
    for name in counts:
        assert validate(data / name, no_feats=True) == [], name
    a, b = read_dict(data / "test40_a" / "utt2spk"), read_dict(data / "test40_b" / "utt2spk")
    assert speakers_of(data / "test40_a") == speakers_of(data / "test40_b") == test_spk
    assert sorted(u.split("-")[1] for u in a if u.startswith("FAKS0-")) == sorted(FIRST_8)
    assert sorted(u.split("-")[1] for u in b if u.startswith("FAKS0-")) == ["SX362", "SX92"]
    assert set(a) | set(b) == set(read_dict(data / "test" / "utt2spk")) and not set(a) & set(b)
    check_trials(tr.read_trials(data / "test" / "trials"), read_dict(data / "test" / "utt2spk"),
                 100)
    assert not (data / "test40_a" / "trials").exists()
    gender = read_dict(data / "test" / "spk2gender")
    assert gender["FAKS0"] == "f" and gender["MWBT0"] == "m" and len(gender) == 40


def test_timit_reads_sphere_and_text(tmp_path):
    root = write_timit(tmp_path / "TIMIT", test={"DR1": "FAKS0 FDAC1 FELC0 FJEM0 MDAB0"},
                       train={"DR1": "FCJF0"})
    data = tmp_path / "data"
    (data / "test40_a").mkdir(parents=True)            # from an earlier run with 40
    timit.prepare(root, data, num_test_speakers=2, dev_speakers=2)
    assert {p.name for p in data.iterdir()} == {"train", "dev", "test", "test2_a", "test2_b"}
    wav_scp = read_dict(data / "test" / "wav.scp")
    assert wav_scp["FAKS0-SA1"] == str(root.resolve() / "TEST/DR1/FAKS0/SA1.WAV")
    wav, sr = AudioTable(data / "test" / "wav.scp", sample_rate=16000)["FAKS0-SX92"]
    raw = np.frombuffer((root / "TEST/DR1/FAKS0/SX92.WAV").read_bytes()[1024:], dtype="<i2")
    assert sr == 16000 and np.array_equal(np.round(wav * 32768).astype(np.int16), raw)
    assert read_dict(data / "test" / "text")["FAKS0-SA2"] == \
        "She had your dark suit in greasy wash water all year."
    assert float(read_dict(data / "test" / "utt2dur")["FAKS0-SX92"]) == \
        pytest.approx(len(raw) / 16000, abs=1e-4)


def test_timit_lower_case_tree_below_src(tmp_path):
    write_timit(tmp_path / "timit" / "TIMIT", test={"DR1": "FAKS0 FDAC1 FELC0 FJEM0 MDAB0"},
                train={"DR1": "FCJF0"}, upper=False)
    data = tmp_path / "data"
    counts = timit.prepare(tmp_path, data, num_test_speakers=2, dev_speakers=2, num_trials=10)
    assert counts["test2_a"] == 16 and counts["test2_b"] == 4
    assert speakers_of(data / "test") == {"FAKS0", "FDAC1"}
    assert "FAKS0-SX362" in read_dict(data / "test2_b" / "utt2spk")


def test_timit_bad_trees(tmp_path):
    root = write_timit(tmp_path / "TIMIT", test={"DR1": "FAKS0 FDAC1 FELC0 FJEM0 MDAB0"},
                       train={"DR1": "FCJF0"})
    (root / "TEST/DR1/FAKS0/SX2.WAV").write_bytes(b"NIST_1A\n   1024\nsample_coding -s26 "
                                                  b"pcm,embedded-shorten-v2.00\n")
    with pytest.raises(SpeechkitError, match="sph2pipe"):
        timit.prepare(root, tmp_path / "d", num_test_speakers=2, dev_speakers=2)
    (root / "TEST/DR1/FAKS0/SX2.WAV").unlink()
    with pytest.raises(SpeechkitError, match="FAKS0 has 9 sentences"):
        timit.prepare(root, tmp_path / "d", num_test_speakers=2, dev_speakers=2)
    with pytest.raises(SpeechkitError, match="fit in the 5 TEST/ speakers"):
        timit.prepare(root, tmp_path / "d")
    with pytest.raises(SpeechkitError, match="no TRAIN/ and TEST/"):
        timit.prepare(tmp_path / "nothing_here", tmp_path / "d")


def test_every_speaker_corpus_is_registered():
    assert {"embedded_speaker", "mini_librispeech", "voxceleb1", "timit"} <= set(PREPARERS)

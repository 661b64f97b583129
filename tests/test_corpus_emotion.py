"""Emotion corpora: speaker folds, the embedded_emotion / ravdess / emodb preparers, and the
generator's style-strength and jitter options.

RAVDESS and EmoDB are imitated in tmp_path with their real layout and file names (short tones
instead of speech); nothing is downloaded.
"""
import collections
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import plan_digest, tone
from speechkit.bin import prepare_corpus, synth_corpus
from speechkit.corpus import emodb, emotion, ravdess, styles, synth
from speechkit.data.datadir import DataDir
from speechkit.data.folds import num_dev_speakers, speaker_folds, speaker_groups, write_fold_dirs
from speechkit.data.validate import validate
from speechkit.errors import SpeechkitError
from speechkit.io import AudioTable, read_dict


@pytest.fixture
def venv_on_path(monkeypatch):
    """The venv's bin dir on PATH, so that `speechkit resample ... |` pipes in wav.scp run."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")


def digests(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob("*")) if p.is_file()}


# ---- speaker folds ----

def toy_utt2spk(num_speakers, seed=0):
    """Speakers s00.. with 1-4 utterances each (uneven, as real corpora are)."""
    rng = np.random.default_rng(seed)
    return {f"s{s:02d}-{u}": f"s{s:02d}" for s in range(num_speakers)
            for u in range(1 + rng.integers(4))}


@pytest.mark.parametrize("num_speakers,k,dev_share", [(10, 4, 0.2), (24, 4, 0.2), (7, 7, 0.5),
                                                      (5, 2, 0.0), (9, 3, 0.9)])
def test_folds_partition_the_speakers(num_speakers, k, dev_share):
    utt2spk = toy_utt2spk(num_speakers)
    folds = speaker_folds(utt2spk, k, seed=1, dev_share=dev_share)
    assert len(folds) == k
    spk = lambda utts: {utt2spk[u] for u in utts}             # noqa: E731
    tested = collections.Counter(s for _, _, test in folds for s in spk(test))
    assert sorted(tested) == sorted(set(utt2spk.values())) and set(tested.values()) == {1}
    sizes = [len(spk(test)) for _, _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for train, dev, test in folds:
        assert sorted(train + dev + test) == sorted(utt2spk)        # every utterance, once
        assert not (spk(train) & spk(dev) or spk(train) & spk(test) or spk(dev) & spk(test))
        side = num_speakers - len(spk(test))
        assert len(spk(dev)) == (0 if dev_share == 0 else
                                 min(max(1, round(dev_share * side)), side - 1))
        assert len(spk(train)) >= 1
        for part in (train, dev, test):
            assert part == sorted(part)
            # whole speakers only: a speaker's utterances all go where the speaker goes
            assert all(u in part for u in utt2spk if utt2spk[u] in spk(part))


def test_folds_deal_the_shuffled_speakers_round_robin():
    utt2spk = toy_utt2spk(10)
    order, groups = speaker_groups(utt2spk.values(), 4, seed=3)
    assert sorted(order) == sorted(set(utt2spk.values())) and order != sorted(order)
    assert groups == [order[0::4], order[1::4], order[2::4], order[3::4]]
    folds = speaker_folds(utt2spk, 4, seed=3, dev_share=0.2)
    for (_, dev, test), group in zip(folds, groups):
        assert {utt2spk[u] for u in test} == set(group)
        assert {utt2spk[u] for u in dev} <= set(order) - set(group)
    # successive folds validate on different speakers
    devs = [frozenset(utt2spk[u] for u in dev) for _, dev, _ in folds]
    assert len(set(devs)) == 4


def test_folds_are_a_function_of_the_seed():
    utt2spk = toy_utt2spk(12)
    assert speaker_folds(utt2spk, 4, seed=5) == speaker_folds(dict(reversed(utt2spk.items())), 4,
                                                               seed=5)
    assert speaker_folds(utt2spk, 4, seed=5) != speaker_folds(utt2spk, 4, seed=6)


def test_num_dev_speakers():
    assert [num_dev_speakers(n, 0.2) for n in (2, 3, 7, 8, 18, 30)] == [1, 1, 1, 2, 4, 6]
    assert num_dev_speakers(18, 0) == 0 and num_dev_speakers(4, 0.99) == 3


@pytest.mark.parametrize("num_speakers,k,dev_share,message", [
    (5, 1, 0.2, "at least 2 folds"),
    (3, 4, 0.2, "only 3 speakers"),
    (8, 4, 1.0, "dev_share=1.0"),
    (3, 2, 0.2, "too few to also hold out dev speakers"),
])
def test_bad_fold_options(num_speakers, k, dev_share, message):
    with pytest.raises(SpeechkitError, match=message):
        speaker_folds(toy_utt2spk(num_speakers), k, dev_share=dev_share)


def test_write_fold_dirs_removes_folds_of_an_earlier_run(tmp_path):
    utt2spk = toy_utt2spk(6)
    tables = {"utt2spk": utt2spk, "text": {u: "a b" for u in utt2spk},
              "utt2emo": {u: "happy" for u in utt2spk}}
    data = DataDir(tmp_path / "all", tables)
    data.write(tmp_path / "all")
    counts = write_fold_dirs(data, tmp_path, 4)
    assert sorted(p.name for p in tmp_path.glob("fold*")) == ["fold1", "fold2", "fold3", "fold4"]
    assert sum(counts[f"fold{i}/test"] for i in range(1, 5)) == len(utt2spk)
    (tmp_path / "fold_notes").mkdir()
    write_fold_dirs(data, tmp_path, 2, dev_share=0)
    assert sorted(p.name for p in tmp_path.glob("fold*")) == ["fold1", "fold2", "fold_notes"]
    assert not (tmp_path / "fold1" / "dev").exists()
    for i in (1, 2):
        for split in ("train", "test"):
            d = tmp_path / f"fold{i}" / split
            assert validate(d, no_feats=True, no_wav=True) == []
            assert read_dict(d / "utt2emo") == {u: "happy" for u in read_dict(d / "utt2spk")}


def check_emotion_dirs(data, folds=4):
    """all/ and fold<i>/{train,dev,test} validate, are subsets of all/ and partition speakers."""
    assert validate(data / "all", no_feats=True) == []
    every = read_dict(data / "all" / "utt2spk")
    emo = read_dict(data / "all" / "utt2emo")
    tested = []
    for i in range(1, folds + 1):
        speakers = []
        for split in ("train", "dev", "test"):
            d = data / f"fold{i}" / split
            assert validate(d, no_feats=True) == [], d
            utt2spk = read_dict(d / "utt2spk")
            assert all(every[u] == s for u, s in utt2spk.items())
            assert read_dict(d / "utt2emo") == {u: emo[u] for u in utt2spk}
            speakers.append(set(utt2spk.values()))
        assert sum(map(len, speakers)) == len(set.union(*speakers)) == len(set(every.values()))
        tested += speakers[2]
    assert sorted(tested) == sorted(set(every.values()))
    assert not (data / f"fold{folds + 1}").exists()
    return every, emo


# ---- RAVDESS ----

# (emotion, intensity, statement, repetition) said by every actor of the fixture
RAVDESS_TRIALS = (("01", "01", "01", "01"), ("03", "02", "02", "01"), ("05", "01", "01", "02"),
                  ("07", "02", "02", "02"), ("08", "01", "02", "01"))
RAVDESS_ACTORS = ("01", "02", "11", "12", "24")


def ravdess_names():
    return [f"Actor_{a}/03-01-{e}-{i}-{s}-{r}-{a}.wav"
            for a in RAVDESS_ACTORS for e, i, s, r in RAVDESS_TRIALS]


@pytest.fixture
def ravdess_tree(tmp_path):
    root = tmp_path / "ravdess"
    for n, name in enumerate(ravdess_names()):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        wav = tone(0.1 + 0.01 * n, sr=48000, seed=n)
        if name == "Actor_02/03-01-03-02-02-01-02.wav":     # a stereo file
            wav = np.stack([wav, 0.5 * wav], axis=1)
        sf.write(str(root / name), wav, 48000, subtype="PCM_16")
    # not audio-only speech, or not RAVDESS at all: skipped
    sf.write(str(root / "Actor_01/03-02-03-01-01-01-01.wav"), tone(0.1, 48000), 48000)
    sf.write(str(root / "Actor_01/01-01-03-01-01-01-01.wav"), tone(0.1, 48000), 48000)
    (root / "Actor_01/.DS_Store").write_bytes(b"\0")
    (root / "__MACOSX").mkdir()
    return root


def test_ravdess_names_and_labels(ravdess_tree, tmp_path, venv_on_path):
    data = tmp_path / "data"
    assert prepare_corpus.main(["ravdess", str(ravdess_tree), str(data)]) == 0
    utt2spk, emo = check_emotion_dirs(data)
    expected = {f"actor{a}-03-01-{e}-{i}-{s}-{r}-{a}": (a, e, i, s)
                for a in RAVDESS_ACTORS for e, i, s, r in RAVDESS_TRIALS}
    assert sorted(utt2spk) == sorted(expected)
    names = {"01": "neutral", "03": "happy", "05": "angry", "07": "disgusted", "08": "surprised"}
    text = read_dict(data / "all" / "text")
    intensity = read_dict(data / "all" / "utt2intensity")
    for utt, (a, e, i, s) in expected.items():
        assert utt2spk[utt] == f"actor{a}" and emo[utt] == names[e]
        assert intensity[utt] == {"01": "normal", "02": "strong"}[i]
        assert text[utt] == {"01": "kids are talking by the door",
                             "02": "dogs are sitting by the door"}[s]
    assert read_dict(data / "all" / "spk2gender") == {
        "actor01": "m", "actor02": "f", "actor11": "m", "actor12": "f", "actor24": "f"}
    assert set(emo.values()) <= set(emotion.EMOTIONS)


def test_ravdess_audio_is_16k_mono(ravdess_tree, tmp_path, venv_on_path):
    data = tmp_path / "data"
    ravdess.prepare(ravdess_tree, data)
    wav_scp = read_dict(data / "all" / "wav.scp")
    utt2dur = read_dict(data / "all" / "utt2dur")
    stereo = "actor02-03-01-03-02-02-01-02"
    rendered = data / "wav" / "all" / f"{stereo}.wav"
    assert wav_scp[stereo] == str(rendered.resolve())
    for utt, spec in wav_scp.items():
        if utt != stereo:
            src = ravdess_tree / f"Actor_{utt[5:7]}" / f"{utt[8:]}.wav"
            assert spec == f"speechkit resample --rate 16000 {src.resolve()} - |"
    audio = AudioTable(data / "all" / "wav.scp", sample_rate=16000)
    for utt in (stereo, "actor24-03-01-08-01-02-01-24"):     # each pipe is a process: two
        wav, sr = audio[utt]
        assert sr == 16000 and abs(len(wav) / 16000 - float(utt2dur[utt])) < 1e-3
    original, _ = sf.read(str(ravdess_tree / "Actor_02/03-01-03-02-02-01-02.wav"))
    mono, sr = sf.read(str(rendered))
    assert sr == 16000 and mono.ndim == 1
    expected = original.mean(axis=1)[::3]                     # a 3:1 decimation, roughly
    n = min(len(mono), len(expected)) - 20
    assert np.corrcoef(mono[10:n], expected[10:n])[0, 1] > 0.95


def test_ravdess_is_deterministic_and_folds_follow_the_options(ravdess_tree, tmp_path):
    data = tmp_path / "data"
    ravdess.prepare(ravdess_tree, data)
    first = digests(data)
    ravdess.prepare(ravdess_tree, data)
    assert digests(data) == first
    counts = ravdess.prepare(ravdess_tree, data, folds=5, seed=1, dev_share=0.5)
    check_emotion_dirs(data, folds=5)
    assert counts["all"] == len(ravdess_names()) and counts["fold5/test"] == len(RAVDESS_TRIALS)
    assert len(set(read_dict(data / "fold1" / "dev" / "utt2spk").values())) == 2


def test_ravdess_bad_trees_are_one_line_errors(ravdess_tree, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_corpus.main(["ravdess", str(empty), str(tmp_path / "d")]) == 1
    wrong = ravdess_tree / "Actor_11" / "03-01-05-01-01-02-12.wav"
    sf.write(str(wrong), tone(0.1, 48000), 48000)
    assert prepare_corpus.main(["ravdess", str(ravdess_tree), str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert "no Actor_01 ... Actor_24" in err[0] and "download_and_untar.sh ravdess" in err[0]
    assert f"{wrong}: actor field 12 but the directory is Actor_11" in err[1]


def test_ravdess_finds_a_single_subdirectory(ravdess_tree):
    assert ravdess.find_root(ravdess_tree.parent) == ravdess_tree


def test_ravdess_parse_name():
    assert ravdess.parse_name("03-01-06-01-02-01-12.wav") == {
        "modality": "03", "channel": "01", "emotion": "06", "intensity": "01",
        "statement": "02", "repetition": "01", "actor": "12"}
    assert ravdess.parse_name("03-01-06-01-02-01.wav") is None


# ---- EmoDB ----

EMODB_NAMES = ("03a01Fa", "03a01Nc", "03b10Wb", "08a02La", "08b09Ea", "09a04Ta", "09a05Aa",
               "10a07Wa", "10b01Nb", "13b02Fc", "13b03Td", "16a01La", "16b09Ab")


@pytest.fixture
def emodb_tree(tmp_path):
    root = tmp_path / "emodb"
    (root / "wav").mkdir(parents=True)
    for n, stem in enumerate(EMODB_NAMES):
        sf.write(str(root / "wav" / f"{stem}.wav"), tone(0.1 + 0.01 * n, seed=n), 16000,
                 subtype="PCM_16")
    for other in ("lablaut", "labsilb", "silb"):
        (root / other).mkdir()
        (root / other / "03a01Fa.lab").write_text("...\n")
    (root / "erkennung.txt").write_text("Satz Sprecher ...\n")
    (root / "wav" / ".DS_Store").write_bytes(b"\0")
    return root


def test_emodb_names_and_labels(emodb_tree, tmp_path):
    data = tmp_path / "data"
    assert prepare_corpus.main(["emodb", str(emodb_tree), str(data), "--opt", "folds=3"]) == 0
    utt2spk, emo = check_emotion_dirs(data, folds=3)
    assert sorted(utt2spk) == sorted(EMODB_NAMES)
    letters = {"W": "angry", "L": "bored", "E": "disgusted", "A": "fearful", "F": "happy",
               "T": "sad", "N": "neutral"}
    assert all(utt2spk[u] == u[:2] and emo[u] == letters[u[5]] for u in EMODB_NAMES)
    text = read_dict(data / "all" / "text")
    assert text["03a01Fa"] == text["16a01La"] == "der lappen liegt auf dem eisschrank"
    assert text["08b09Ea"] == "ich will das eben wegbringen und dann mit karl was trinken gehen"
    assert read_dict(data / "all" / "spk2gender") == {
        "03": "m", "08": "f", "09": "f", "10": "m", "13": "f", "16": "f"}
    wav_scp = read_dict(data / "all" / "wav.scp")
    assert wav_scp == {u: str((emodb_tree / "wav" / f"{u}.wav").resolve()) for u in EMODB_NAMES}
    assert not (data / "wav").exists()
    assert emodb.find_wav_dir(emodb_tree / "wav") == emodb_tree / "wav"
    assert emodb.find_wav_dir(emodb_tree.parent) == emodb_tree / "wav"


def test_emodb_is_deterministic(emodb_tree, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    emodb.prepare(emodb_tree, a)
    emodb.prepare(emodb_tree, b)
    assert digests(a) == digests(b) and len(digests(a)) > 20
    emodb.prepare(emodb_tree, b, seed=1)
    assert digests(a) != digests(b)


def test_emodb_bad_names_are_one_line_errors(emodb_tree, tmp_path, capsys):
    bad = emodb_tree / "wav" / "03a01Xa.wav"
    sf.write(str(bad), tone(0.1), 16000)
    assert prepare_corpus.main(["emodb", str(emodb_tree), str(tmp_path / "d")]) == 1
    bad.unlink()
    sf.write(str(emodb_tree / "wav" / "04a01Fa.wav"), tone(0.1), 16000)
    assert prepare_corpus.main(["emodb", str(emodb_tree), str(tmp_path / "d")]) == 1
    assert prepare_corpus.main(["emodb", str(tmp_path / "nowhere"), str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3
    assert f"{bad}: emotion letter X is not one of W L E A F T N" in err[0]
    assert "speaker 04 is not one of 03 08" in err[1]
    assert "download_and_untar.sh emodb" in err[2]


# ---- the embedded corpus ----

EMBEDDED = synth.CorpusConfig(seed=2, profile="sentences", num_speakers=8, dev_speakers=1,
                              test_speakers=1, utts_per_speaker=4,
                              styles=("neutral", "happy", "sad", "angry"))


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("emo") / "corpus"
    synth.synthesize(EMBEDDED, str(corpus), nj=1)
    return corpus


def test_embedded_emotion_folds_over_all_speakers(embedded, tmp_path):
    data = tmp_path / "data"
    assert prepare_corpus.main(["embedded_emotion", str(embedded), str(data)]) == 0
    utt2spk, emo = check_emotion_dirs(data)
    rows = {u.utt: u for u in synth.plan(EMBEDDED)}
    assert sorted(utt2spk) == sorted(rows) and len(set(utt2spk.values())) == 8
    assert emo == {u: r.style for u, r in rows.items()}
    assert read_dict(data / "all" / "text") == {u: r.text for u, r in rows.items()}
    assert set(os.listdir(data / "all")) == {"wav.scp", "text", "utt2spk", "spk2utt", "utt2dur",
                                             "utt2emo"}
    for utt, wav, _ in AudioTable(data / "fold1" / "test" / "wav.scp", sample_rate=16000).items():
        assert np.std(wav) > 0.01
    first = digests(data)
    emotion.prepare(embedded, data)
    assert digests(data) == first


def test_embedded_emotion_needs_styles_and_speakers(embedded, tmp_path, capsys):
    src = tmp_path / "neutral"
    src.mkdir()
    lines = (embedded / "manifest.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    col = header.index("style")
    rows = [line.split("\t") for line in lines[1:]]
    for row in rows:
        row[col] = "neutral"
        row[-1] = str(embedded / row[-1])
    (src / "manifest.tsv").write_text("\n".join(["\t".join(header)]
                                                + ["\t".join(r) for r in rows]) + "\n")
    assert prepare_corpus.main(["embedded_emotion", str(src), str(tmp_path / "d")]) == 1
    assert prepare_corpus.main(["embedded_emotion", str(embedded), str(tmp_path / "d"),
                                "--opt", "folds=9"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert "every utterance has the style 'neutral'" in err[0] and "--styles" in err[0]
    assert "8 speakers for folds=9" in err[1]


# ---- generator options: style strength, jitter ----

def test_default_corpus_is_unchanged_by_the_new_options():
    # sha256 of the plans as the generator made them before style_strength and the jitter
    # options existed; an utterance's audio is a function of its plan entry alone.
    assert plan_digest(synth.CorpusConfig()) == \
        "0aa4798af4f78e024ad8871169540102898b8b7f10cfe9dda06682d20e0f026b"
    emo = synth.CorpusConfig(seed=3, profile="sentences", num_speakers=6, dev_speakers=1,
                             test_speakers=1, utts_per_speaker=7,
                             styles=("neutral", "happy", "sad", "angry"))
    assert plan_digest(emo) == "8efbbbd100e4582aeac364f8d1ea38ccb4b424a15d4b088874b42e0dd8642453"
    assert sorted(synth.config_dict(emo)) == ["dev_speakers", "num_speakers", "profile",
                                              "sample_rate", "seed", "styles", "test_speakers",
                                              "utts_per_speaker"]
    weak = synth.CorpusConfig(style_strength=(0.5, 1.0), volume_jitter=0.1)
    assert synth.config_dict(weak)["style_strength"] == [0.5, 1.0]
    assert synth.config_dict(weak)["volume_jitter"] == 0.1 and "pitch_jitter" not in \
        synth.config_dict(weak)


def prosody(cfg):
    return {u.utt: (u.rate, u.pitch, u.range, u.volume) for u in synth.plan(cfg)}


def test_style_strength_zero_is_neutral_and_one_half_is_halfway():
    cfg = dict(seed=1, profile="sentences", num_speakers=4, dev_speakers=0, test_speakers=0,
               utts_per_speaker=8)
    four = ("neutral", "happy", "sad", "angry")
    # The utterance draws do not depend on the style, so strength 0 gives every utterance the
    # prosody it would have had as neutral.
    assert prosody(synth.CorpusConfig(**cfg, styles=four, style_strength=(0.0, 0.0))) == \
        prosody(synth.CorpusConfig(**cfg, styles=("neutral",)))
    full = {u.utt: u for u in synth.plan(synth.CorpusConfig(**cfg, styles=four))}
    half = {u.utt: u for u in synth.plan(synth.CorpusConfig(**cfg, styles=four,
                                                            style_strength=(0.5, 0.5)))}
    neutral = styles.get_style("neutral")
    for utt, u in full.items():
        style = styles.get_style(u.style)
        shift = style.pitch - round(neutral.pitch + 0.5 * (style.pitch - neutral.pitch))
        if 0 < u.pitch < 100 and 0 < half[utt].pitch < 100:
            assert u.pitch - half[utt].pitch == shift
        assert half[utt].volume == round((neutral.volume + style.volume) / 2)
    assert any(u.style != "neutral" and u.pitch != half[utt].pitch for utt, u in full.items())


def test_volume_and_pitch_jitter():
    base = dict(seed=1, num_speakers=2, dev_speakers=0, test_speakers=0, utts_per_speaker=40)
    vols = [u.volume for u in synth.plan(synth.CorpusConfig(**base, volume_jitter=0.2))]
    assert min(vols) >= 80 and max(vols) <= 120 and len(set(vols)) > 10
    assert {u.volume for u in synth.plan(synth.CorpusConfig(**base))} == {100}
    loud = synth.plan(synth.CorpusConfig(**base, styles=("angry",), volume_jitter=0.2,
                                         style_strength=(1.0, 2.0)))
    assert max(u.volume for u in loud) == synth.MAX_VOLUME == 130    # eSpeak clips above
    flat = synth.plan(synth.CorpusConfig(**base, pitch_jitter=0, rate_jitter=0.0))
    speakers = {s.id: s for s in synth.make_speakers(synth.CorpusConfig(**base))}
    assert all(u.pitch == 50 + speakers[u.speaker].pitch_offset for u in flat)
    assert all(u.rate == round(175 * speakers[u.speaker].rate_scale) for u in flat)


def test_synth_corpus_options(tmp_path, capsys):
    args = synth_corpus.get_parser().parse_args(["--style-strength", "0.4,1", "out"])
    assert synth_corpus.float_range(args.style_strength) == (0.4, 1.0)
    assert synth_corpus.float_range("0.7") == (0.7, 0.7)
    assert synth_corpus.get_parser().parse_args(["out"]).style_strength == "1,1"
    for bad, message in ((["--style-strength", "1,0.5"], "--style-strength must be LO,HI"),
                         (["--style-strength", "a,b"], "expected LO,HI"),
                         (["--volume-jitter", "1.5"], "--volume-jitter must be within"),
                         (["--pitch-jitter", "-1"], "--pitch-jitter must be")):
        assert synth_corpus.main([*bad, str(tmp_path / "x")]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_config_json_names_the_options_only_when_set(tmp_path):
    cfg = synth.CorpusConfig(num_speakers=1, dev_speakers=0, test_speakers=0,
                             utts_per_speaker=1, style_strength=(0.5, 1.0))
    synth._write_config(str(tmp_path), cfg, 1)
    conf = json.loads((tmp_path / synth.CONFIG).read_text())
    assert conf["style_strength"] == [0.5, 1.0] and "volume_jitter" not in conf

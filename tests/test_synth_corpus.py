"""The embedded corpus: plan, determinism across runs and job counts, manifest, audio."""
import hashlib
import os
import random

import numpy as np
import pytest
import soundfile

from speechkit.bin import synth_corpus
from speechkit.corpus import espeak, manifest, profiles, styles, synth
from speechkit.errors import SpeechkitError

# 6 speakers x 7 utterances: small, yet several shards per worker and all three splits.
SMALL = ["--num-speakers", "6", "--dev-speakers", "1", "--test-speakers", "1",
         "--utts-per-speaker", "7", "--seed", "3", "--styles", "neutral,happy,sad,angry"]


def generate(outdir, *extra, nj=2):
    assert synth_corpus.main([*SMALL, *extra, "--nj", str(nj), str(outdir)]) == 0
    return manifest.read_manifest(os.path.join(outdir, "manifest.tsv"), absolute_paths=True)


def digests(outdir):
    """sha256 of every file under outdir, by relative path."""
    out = {}
    for root, _, files in os.walk(outdir):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, outdir)] = hashlib.sha256(f.read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("synth") / "corpus"
    return outdir, generate(outdir, nj=2)


def small_config(**kw):
    base = dict(seed=3, num_speakers=6, dev_speakers=1, test_speakers=1, utts_per_speaker=7)
    return synth.CorpusConfig(**{**base, **kw})


# ---- determinism ----

def test_same_seed_is_byte_identical_across_runs_and_nj(corpus, tmp_path):
    outdir, rows = corpus
    reference = digests(outdir)
    assert len([p for p in reference if p.endswith(".wav")]) == len(rows) == 42
    for name, nj in (("again", 2), ("nj1", 1)):
        generate(tmp_path / name, nj=nj)
        assert digests(tmp_path / name) == reference, f"run '{name}' differs"


def test_other_seed_gives_other_corpus(corpus, tmp_path):
    outdir, _ = corpus
    generate(tmp_path / "seed4", "--seed", "4", nj=2)
    assert digests(tmp_path / "seed4")["wav/s001-0000.wav"] != digests(outdir)["wav/s001-0000.wav"]


def test_plan_is_a_function_of_the_config():
    assert synth.plan(small_config()) == synth.plan(small_config())
    assert synth.plan(small_config()) != synth.plan(small_config(seed=4))


def test_shards_do_not_depend_on_nj():
    utts = synth.plan(small_config(utts_per_speaker=synth.SHARD_SIZE + 3))
    shards = synth.make_shards(utts)
    assert [u for s in shards for u in s] == utts
    assert all(len({u.speaker for u in s}) == 1 and len(s) <= synth.SHARD_SIZE for s in shards)
    assert len(shards) == 12


# ---- manifest and ids ----

def test_manifest_layout(corpus):
    outdir, rows = corpus
    with open(outdir / "manifest.tsv", encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0].split("\t") == list(manifest.COLUMNS)
    utts = [r["utt"] for r in rows]
    assert utts == sorted(utts) and len(set(utts)) == len(utts)
    raw = manifest.read_manifest(outdir / "manifest.tsv")
    assert all(r["path"] == f"wav/{r['utt']}.wav" for r in raw)  # relative to outdir
    for row in rows:
        assert row["style"] in ("neutral", "happy", "sad", "angry")
        assert row["accent"] in synth.ACCENTS
        assert 80 <= row["rate"] <= 450 and 0 <= row["pitch"] <= 100
        assert 0 <= row["range"] <= 100 and 0 <= row["volume"] <= 200


def test_utt_ids_start_with_speaker_id(corpus):
    _, rows = corpus
    for row in rows:
        assert row["utt"].startswith(row["speaker"] + "-")
        assert row["speaker"][0] == "s" and row["speaker"][1:].isdigit()


def test_splits_are_speaker_disjoint(corpus):
    _, rows = corpus
    split_of = {}
    for row in rows:
        assert split_of.setdefault(row["speaker"], row["split"]) == row["split"]
    counts = {s: sorted(k for k, v in split_of.items() if v == s) for s in synth.SPLITS}
    assert [len(counts[s]) for s in synth.SPLITS] == [4, 1, 1]
    # Each speaker is its own eSpeak voice: no (variant, accent) pair is shared.
    voices = {(r["voice"], r["accent"]) for r in rows}
    assert len(voices) == len(split_of)


def test_speaker_voices_unique_even_beyond_variant_count():
    speakers = synth.make_speakers(small_config(num_speakers=150, utts_per_speaker=1))
    assert len({(s.voice, s.accent) for s in speakers}) == 150
    assert len({s.voice for s in speakers}) == len(synth.espeak.list_variants())


def test_styles_balanced_per_speaker(corpus):
    _, rows = corpus
    for spk in {r["speaker"] for r in rows}:
        counts = [sum(r["speaker"] == spk and r["style"] == s for r in rows)
                  for s in ("neutral", "happy", "sad", "angry")]
        assert max(counts) - min(counts) <= 1


def test_transcripts_use_digit_words_only(corpus):
    _, rows = corpus
    for row in rows:
        words = row["text"].split(" ")
        assert 1 <= len(words) <= 7
        assert set(words) <= profiles.DIGITS_VOCAB


# ---- audio ----

def test_audio_is_16k_mono_int16_and_not_silent(corpus):
    _, rows = corpus
    for row in rows:
        info = soundfile.info(row["path"])
        assert (info.samplerate, info.channels, info.subtype, info.format) == \
            (16000, 1, "PCM_16", "WAV")
        audio, _ = soundfile.read(row["path"], dtype="int16")
        assert row["duration"] == pytest.approx(len(audio) / 16000, abs=1e-4)
        assert np.sqrt(np.mean((audio / 32768.0) ** 2)) > 0.01


def test_lead_silence_and_noise_floor(corpus, tmp_path):
    """The same speech, after 0.2-0.4 s of silence, over white noise at 30-40 dB SNR."""
    outdir, rows = corpus
    rec = generate(tmp_path / "rec", "--lead-silence", "0.2,0.4", "--noise-floor", "30,40")
    plans = {u.utt: u for u in synth.plan(small_config(styles=("neutral", "happy", "sad", "angry"),
                                                       lead_silence=(0.2, 0.4),
                                                       noise_floor=(30.0, 40.0)))}
    for row, new in zip(rows[:5], rec[:5]):
        plan = plans[row["utt"]]
        assert 0.2 <= plan.lead <= 0.4 and 30 <= plan.floor_snr <= 40
        clean, _ = soundfile.read(row["path"], dtype="float64")
        audio, rate = soundfile.read(new["path"], dtype="float64")
        lead = round(plan.lead * rate)
        assert len(audio) == lead + len(clean)
        assert new["duration"] == pytest.approx(len(audio) / rate, abs=1e-4)
        noise = np.concatenate([audio[:lead], audio[lead:] - clean])
        snr = 10 * np.log10(np.mean(clean ** 2) / np.mean(noise ** 2))
        assert snr == pytest.approx(plan.floor_snr, abs=0.3)  # int16 rounding aside
    conf = synth.config_dict(small_config(lead_silence=(0.2, 0.4), noise_floor=(30.0, 40.0)))
    assert conf["lead_silence"] == [0.2, 0.4] and conf["noise_floor"] == [30.0, 40.0]
    assert "lead_silence" not in synth.config_dict(small_config())


def test_variant_jitter_gives_every_speaker_its_own_voice(corpus, tmp_path):
    _, plain = corpus
    rows = generate(tmp_path / "own", "--variant-jitter", "1", nj=1)
    utts = synth.plan(small_config(styles=("neutral", "happy", "sad", "angry"),
                                   variant_jitter=1.0))
    assert {u.variant for u in utts} == {f"sk_s00{i}" for i in range(1, 7)}
    assert [u.voice for u in utts] == [r["voice"] for r in plain]  # the presets they come from
    files = sorted(os.listdir(tmp_path / "own" / synth.VARIANT_DIR))
    assert files == [f"sk_s00{i}" for i in range(1, 7)]
    # Same words, same prosody, another vocal tract: the audio differs, the transcript does not.
    for own, base in zip(rows, plain):
        assert own["text"] == base["text"]
    a = soundfile.read(rows[0]["path"], dtype="int16")[0]
    b = soundfile.read(plain[0]["path"], dtype="int16")[0]
    assert len(a) != len(b) or not np.array_equal(a, b)
    generate(tmp_path / "own", nj=1)  # the same dir without the option: no variants left behind
    assert not (tmp_path / "own" / synth.VARIANT_DIR).exists()
    assert synth.config_dict(small_config(variant_jitter=0.5))["variant_jitter"] == 0.5
    assert "variant_jitter" not in synth.config_dict(small_config())


def test_rerun_replaces_a_bigger_corpus(tmp_path):
    outdir = tmp_path / "c"
    generate(outdir, "--num-speakers", "3", "--utts-per-speaker", "3")
    (outdir / "wav" / "s001-0000.wav.tmp").write_bytes(b"left by an interrupted run")
    rows = generate(outdir, "--num-speakers", "3", "--utts-per-speaker", "2", nj=1)
    assert sorted(os.listdir(outdir / "wav")) == sorted(f"{r['utt']}.wav" for r in rows)
    assert len(rows) == 6


def test_skip_if_made_keeps_only_a_corpus_of_the_same_options(tmp_path, capsys):
    outdir = tmp_path / "c"
    opts = ["--num-speakers", "3", "--utts-per-speaker", "2", "--skip-if-made"]
    generate(outdir, *opts, nj=1)
    before = digests(outdir)
    wav = outdir / "wav" / "s001-0000.wav"
    stamp = wav.stat().st_mtime_ns
    capsys.readouterr()
    generate(outdir, *opts, nj=1)
    assert "already made with these options" in capsys.readouterr().err
    assert wav.stat().st_mtime_ns == stamp
    # Other options (here a leading silence): made afresh, not silently kept.
    generate(outdir, *opts, "--lead-silence", "0.1", nj=1)
    assert digests(outdir)["wav/s001-0000.wav"] != before["wav/s001-0000.wav"]
    # An incomplete corpus (no manifest: interrupted) is made again too.
    (outdir / "manifest.tsv").unlink()
    generate(outdir, *opts, nj=1)
    assert digests(outdir) == before


# ---- the eSpeak binding ----

def test_espeak_binding():
    assert all(espeak.has_accent(a) for a in synth.ACCENTS)
    assert len(espeak.list_variants()) >= 100
    engine = espeak.Espeak(seed=1)
    assert engine.sample_rate == 22050 and engine.has_rand_seed
    engine.set_voice("en-gb-x-rp", "f2")
    engine.set_parameter("rate", 200)
    audio = engine.synth("three one four")
    assert audio.dtype == np.int16 and 0.3 * 22050 < len(audio) < 3 * 22050
    with pytest.raises(SpeechkitError, match="variant"):
        engine.set_voice("en", "no-such-variant")
    with pytest.raises(SpeechkitError, match="outside"):
        engine.set_parameter("pitch", 101)


# ---- profiles, styles and bad input ----

def test_digits_profile():
    rng = random.Random(0)
    samples = [profiles.get_profile("digits")(rng) for _ in range(500)]
    assert all(spoken == text for spoken, text in samples)
    lengths = {len(text.split()) for _, text in samples}
    assert lengths == set(range(1, 8))
    words = {w for _, text in samples for w in text.split()}
    assert words == profiles.DIGITS_VOCAB  # "oh" and "zero" both occur


def test_profile_registry_rejects_duplicates():
    with pytest.raises(ValueError):
        profiles.register("digits")(lambda rng: ("a", "a"))


def test_parse_styles():
    assert styles.parse_styles("all") == tuple(styles.STYLES)
    assert styles.parse_styles("sad, angry") == ("sad", "angry")
    for bad in ("sad,,angry", "calm", "sad,sad"):
        with pytest.raises(SpeechkitError):
            styles.parse_styles(bad)


@pytest.mark.parametrize("args, message", [
    (["--profile", "nope"], "unknown profile 'nope'"),
    (["--num-speakers", "2", "--dev-speakers", "2", "--test-speakers", "1"], "exceed"),
    (["--utts-per-speaker", "0"], "--utts-per-speaker"),
    (["--nj", "0"], "--nj"),
    (["--styles", "calm"], "unknown style"),
    (["--num-speakers", "900"], "voice/accent pairs"),
    (["--sample-rate", "100"], "--sample-rate"),
    (["--lead-silence", "0.5,0.1"], "--lead-silence must be LO,HI"),
    (["--noise-floor", "5,40"], "--noise-floor must be LO,HI"),
    (["--noise-floor", "x"], "--noise-floor x: expected LO,HI"),
    (["--variant-jitter", "1.5"], "--variant-jitter must be within 0..1"),
])
def test_bad_input_is_one_line_error(tmp_path, capsys, args, message):
    assert synth_corpus.main([*args, str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_read_manifest_reports_bad_lines(tmp_path):
    path = tmp_path / "manifest.tsv"
    path.write_text("\t".join(manifest.COLUMNS) + "\nonly\tthree\tfields\n")
    with pytest.raises(SpeechkitError, match=r"manifest.tsv:2"):
        manifest.read_manifest(path)

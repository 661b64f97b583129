"""Corpora of the mcep recipe: synth-corpus --parallel-texts, embedded_mcep, cmu_arctic (fixture)."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import plan_digest
from speechkit.bin import prepare_corpus, synth_corpus
from speechkit.corpus import cmu_arctic, manifest, synth
from speechkit.corpus import mcep as mcep_corpus
from speechkit.errors import SpeechkitError
from speechkit.io import read_dict

SENTENCES = dict(seed=1, profile="sentences", num_speakers=6, dev_speakers=1, test_speakers=1,
                 utts_per_speaker=5)


# ---- synth-corpus --parallel-texts ----

def test_parallel_texts_off_leaves_the_corpus_as_it_was():
    # sha256 of the plan as the generator made it before --parallel-texts existed (the audio
    # of an utterance is a function of its plan entry alone), and the config file unchanged.
    cfg = synth.CorpusConfig(**SENTENCES)
    assert plan_digest(cfg) == "60168df415258e1b8fef7db19ca402f1a19820d4a1ba42e2980064e564e9262b"
    assert "parallel_texts" not in synth.config_dict(cfg)
    assert synth.config_dict(replace(cfg, parallel_texts=2))["parallel_texts"] == 2


def test_parallel_texts_every_speaker_reads_the_pool_and_nothing_else_changes():
    base = synth.plan(synth.CorpusConfig(**SENTENCES))
    par = synth.plan(synth.CorpusConfig(**SENTENCES, parallel_texts=3))
    pool = {t for _, t in synth.parallel_pool(synth.CorpusConfig(**SENTENCES, parallel_texts=3),
                                              synth.profiles.get_profile("sentences"))}
    assert len(pool) == 3
    by_spk = {}
    for a, b in zip(base, par):
        assert a.utt == b.utt and a.noise_seed == b.noise_seed and \
            (a.rate, a.pitch, a.range, a.volume) == (b.rate, b.pitch, b.range, b.volume)
        index = int(b.utt.split("-")[1])
        if index < 3:
            assert b.text in pool and b.spoken == b.text
        else:  # the other utterances keep their own sentences
            assert (b.text, b.spoken) == (a.text, a.spoken)
        by_spk.setdefault(b.speaker, set()).add(b.text)
    assert all(pool <= texts for texts in by_spk.values())
    orders = {tuple(u.text for u in par if u.speaker == s)[:3] for s in by_spk}
    assert len(orders) > 1  # each speaker reads the pool in an order of its own


def test_parallel_texts_bad_values():
    with pytest.raises(SpeechkitError, match="--parallel-texts must be within 0..--utts-per-speaker"):
        synth.plan(synth.CorpusConfig(**SENTENCES, parallel_texts=6))
    with pytest.raises(SpeechkitError, match="distinct texts"):
        synth.plan(synth.CorpusConfig(profile="commands", num_speakers=1, dev_speakers=0,
                                      test_speakers=0, utts_per_speaker=40, parallel_texts=40))


def test_synth_corpus_cli_makes_parallel_sentences(tmp_path):
    out = tmp_path / "corpus"
    assert synth_corpus.main(["--profile", "sentences", "--num-speakers", "2", "--dev-speakers",
                              "0", "--test-speakers", "0", "--utts-per-speaker", "2",
                              "--parallel-texts", "2", "--nj", "1", str(out)]) == 0
    rows = manifest.read_manifest(out / "manifest.tsv")
    texts = {spk: sorted(r["text"] for r in rows if r["speaker"] == spk) for spk in ("s001", "s002")}
    assert texts["s001"] == texts["s002"] and len(set(texts["s001"])) == 2
    assert (out / "wav" / "s002-0001.wav").stat().st_size > 1000


# ---- embedded_mcep ----

def write_manifest(root, cfg):
    rows = [dict(utt=u.utt, speaker=u.speaker, split=u.split, text=u.text, style=u.style,
                 voice=u.voice, accent=u.accent, rate=u.rate, pitch=u.pitch, range=u.range,
                 volume=u.volume, duration=1.5, path=u.path) for u in synth.plan(cfg)]
    root.mkdir(parents=True, exist_ok=True)
    manifest.write_manifest(root / "manifest.tsv", rows)
    return rows


def test_embedded_mcep_sets(tmp_path):
    cfg = synth.CorpusConfig(seed=2, profile="sentences", num_speakers=9, dev_speakers=1,
                             test_speakers=2, utts_per_speaker=6, parallel_texts=2)
    rows = write_manifest(tmp_path / "corpus", cfg)
    counts = mcep_corpus.prepare(tmp_path / "corpus", tmp_path / "data", vc_speakers=3)
    shared = {t for _, t in synth.parallel_pool(cfg, synth.profiles.get_profile("sentences"))}
    data = {x: (read_dict(tmp_path / "data" / x / "utt2spk"), read_dict(tmp_path / "data" / x / "text"))
            for x in ("train", "dev", "dev_seen", "test", "test_vc")}
    spk = lambda x: set(data[x][0].values())  # noqa: E731
    split = {r["speaker"]: r["split"] for r in rows}
    assert spk("train") == spk("dev_seen") == {s for s, v in split.items() if v == "train"}
    assert spk("test") == {s for s, v in split.items() if v == "test"} and not spk("test") & spk("train")
    assert spk("dev") == {s for s, v in split.items() if v == "dev"}
    # No voice reads a shared (conversion test) sentence in training; dev_seen is held out.
    assert not shared & set(data["train"][1].values())
    assert not set(data["train"][0]) & set(data["dev_seen"][0])
    assert len(data["dev_seen"][0]) == len(spk("train"))  # one per speaker
    assert counts["train"] == 6 * (6 - 2 - 1) and counts["test_vc"] == 3 * 2
    # test_vc: 3 training voices reading the 2 shared sentences; every ordered pair of two voices.
    assert len(spk("test_vc")) == 3 and spk("test_vc") <= spk("train")
    assert set(data["test_vc"][1].values()) == shared
    pairs = [ln.split() for ln in (tmp_path / "data" / "test_vc" / "pairs").read_text().splitlines()]
    utt2spk, text = data["test_vc"]
    assert len(pairs) == 2 * 3 * 2 and pairs == sorted(pairs)
    assert all(text[a] == text[b] and utt2spk[a] != utt2spk[b] for a, b in pairs)


def test_embedded_mcep_needs_parallel_texts(tmp_path):
    write_manifest(tmp_path / "corpus", synth.CorpusConfig(**SENTENCES))
    with pytest.raises(SpeechkitError, match="--parallel-texts"):
        mcep_corpus.prepare(tmp_path / "corpus", tmp_path / "data", vc_speakers=3)
    with pytest.raises(SpeechkitError, match="vc_speakers=9"):
        mcep_corpus.prepare(tmp_path / "corpus", tmp_path / "data", vc_speakers=9)


# ---- cmu_arctic, on a fixture tree with the festvox layout ----

PROMPTS = {"arctic_a0001": "Author of the danger trail, Philip Steels, etc.",
           "arctic_a0002": "Not at this particular case, Tom, apologized Whittemore.",
           "arctic_a0003": "For the twentieth time that evening the two men shook hands.",
           "arctic_b0001": "Will we ever forget it.",
           "arctic_b0002": "God bless 'em, I hope I'll go on seeing them forever."}


def arctic_tree(root, speakers=("bdl", "slt", "jmk"), rates=None, missing=()):
    for spk in speakers:
        d = root / f"cmu_us_{spk}_arctic"
        (d / "wav").mkdir(parents=True)
        (d / "etc").mkdir()
        (d / "etc" / "txt.done.data").write_text(
            "".join(f'( {p} "{t}" )\n' for p, t in PROMPTS.items()))
        rate = (rates or {}).get(spk, 16000)
        for p in PROMPTS:
            if (spk, p) not in missing:
                sf.write(str(d / "wav" / f"{p}.wav"), np.zeros(rate // 10, np.float32), rate,
                         subtype="PCM_16")
    return root


def test_cmu_arctic_sets(tmp_path):
    src = arctic_tree(tmp_path / "arctic", rates={"jmk": 32000}, missing={("slt", "arctic_a0003")})
    counts = cmu_arctic.prepare(src, tmp_path / "data", speakers=("bdl", "slt"),
                                test_speakers=("jmk",), dev_prompts=1, test_prompts=2)
    d = tmp_path / "data"
    # prompts every training speaker has, in id order: a0001 a0002 b0001 b0002 -> test the
    # last 2, dev the one before; slt's missing a0003 leaves it to bdl's training set.
    assert sorted(read_dict(d / "train" / "utt2spk")) == ["bdl-arctic_a0001", "bdl-arctic_a0003",
                                                         "slt-arctic_a0001"]
    assert sorted(read_dict(d / "dev" / "text")) == ["bdl-arctic_a0002", "slt-arctic_a0002"]
    assert read_dict(d / "test_vc" / "text")["slt-arctic_b0002"] == PROMPTS["arctic_b0002"]
    assert (d / "test_vc" / "pairs").read_text().splitlines() == [
        "bdl-arctic_b0001 slt-arctic_b0001", "bdl-arctic_b0002 slt-arctic_b0002",
        "slt-arctic_b0001 bdl-arctic_b0001", "slt-arctic_b0002 bdl-arctic_b0002"]
    test_wav = read_dict(d / "test" / "wav.scp")
    assert sorted(test_wav) == ["jmk-arctic_b0001", "jmk-arctic_b0002"]
    assert test_wav["jmk-arctic_b0001"].startswith("speechkit resample --rate 16000 ")  # 32 kHz
    assert Path(read_dict(d / "train" / "wav.scp")["bdl-arctic_a0001"]).is_file()
    assert counts == {"train": 3, "dev": 2, "test_vc": 4, "test": 2}


def test_cmu_arctic_bad_trees(tmp_path, capsys):
    src = arctic_tree(tmp_path / "arctic")
    out = str(tmp_path / "d")
    assert prepare_corpus.main(["cmu_arctic", str(src), out]) == 1  # default speakers: no clb
    assert prepare_corpus.main(["cmu_arctic", str(src), out, "--opt", "speakers=bdl"]) == 1
    (src / "cmu_us_slt_arctic" / "etc" / "txt.done.data").write_text("arctic_a0001 no parens\n")
    assert prepare_corpus.main(["cmu_arctic", str(src), out, "--opt", "speakers=bdl,slt"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3
    assert "cmu_us_clb_arctic: no such speaker dir" in err[0]
    assert "at least 2 training speakers" in err[1]
    assert "txt.done.data:1: expected `( arctic_a0001" in err[2]

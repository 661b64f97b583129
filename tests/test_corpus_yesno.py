"""Kaldi's yesno corpus: preparation into data dirs, `speechkit resample`, and the download script.

The corpus is imitated in tmp_path (waves_yesno/ with tiny 8 kHz wavs and a README); nothing is
downloaded.
"""
import logging
import os
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, run
from speechkit.bin import prepare_corpus
from speechkit.bin import resample as resample_cli
from speechkit.bin.main import subcommands
from speechkit.corpus import PREPARERS, yesno
from speechkit.data.validate import validate
from speechkit.io import AudioTable, read_dict

DOWNLOAD = REPO / "egs" / "asr" / "local" / "download_and_untar.sh"

# 6 names starting with 0 (-> 5 train + the 6th in C order to dev) and 2 starting with 1 (test).
NAMES = ["0_0_0_0_1_1_1_1", "0_0_1_0_1_0_0_1", "0_1_0_0_1_0_1_1", "0_0_1_1_0_0_0_1",
         "0_1_1_1_0_0_0_0", "0_1_0_1_1_1_0_0", "1_0_0_0_0_0_1_1", "1_1_1_1_0_1_0_0"]
TRAIN = ["0_0_0_0_1_1_1_1", "0_0_1_0_1_0_0_1", "0_0_1_1_0_0_0_1", "0_1_0_0_1_0_1_1",
         "0_1_0_1_1_1_0_0"]
DEV = ["0_1_1_1_0_0_0_0"]
TEST = ["1_0_0_0_0_0_1_1", "1_1_1_1_0_1_0_0"]


def frames_of(i):
    """Distinct small lengths at 8 kHz: 0.2 s + i * 12.5 ms."""
    return 1600 + 100 * i


def write_sine(path, frames, sr, freq=440.0):
    t = np.arange(frames) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr,
             subtype="PCM_16")


@pytest.fixture
def corpus(tmp_path):
    """corpus/yesno laid out as the openslr tarball unpacks, with a README and a stray file."""
    waves = tmp_path / "corpus" / "yesno" / "waves_yesno"
    waves.mkdir(parents=True)
    for i, name in enumerate(NAMES):
        write_sine(waves / f"{name}.wav", frames_of(i), 8000, freq=300 + 50 * i)
    (waves / "README").write_text("The archive waves_yesno.tar.gz contains 60 .wav files...\n")
    (waves / ".DS_Store").write_bytes(b"\0\1")
    return waves.parent


@pytest.fixture
def on_path(monkeypatch):
    """The venv's bin dir on PATH, so that `speechkit resample ... |` pipes in wav.scp run."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")


@pytest.fixture
def prepared(corpus, tmp_path):
    data = tmp_path / "data"
    assert prepare_corpus.main(["yesno", str(corpus), str(data)]) == 0
    return data


def utts(names):
    return [f"yesno-{n}" for n in names]


def test_registered():
    assert "yesno" in PREPARERS
    assert "resample" in subcommands()


def test_data_dirs_validate_and_follow_the_split(prepared):
    for split, names in (("train", TRAIN), ("dev", DEV), ("test", TEST)):
        d = prepared / split
        assert validate(d, no_feats=True) == [], split
        assert list(read_dict(d / "utt2spk")) == utts(names)
        assert set(read_dict(d / "utt2spk").values()) == {"yesno"}
        assert read_dict(d / "spk2utt") == {"yesno": " ".join(utts(names))}


def test_text_maps_digits_to_lower_case_words(prepared):
    text = {**read_dict(prepared / "train" / "text"), **read_dict(prepared / "dev" / "text"),
            **read_dict(prepared / "test" / "text")}
    assert text["yesno-0_1_0_0_1_0_1_1"] == "no yes no no yes no yes yes"
    assert text["yesno-1_1_1_1_0_1_0_0"] == "yes yes yes yes no yes no no"
    for utt, words in text.items():
        digits = utt.split("-", 1)[1].split("_")
        assert words.split() == [{"0": "no", "1": "yes"}[d] for d in digits]


def test_split_rule_on_a_full_size_listing():
    """31 names starting with 0 and 29 with 1, as in the real corpus: 26 / 5 / 29 (Kaldi's test)."""
    zeros = ["_".join("0" + format(i, "07b")) + ".wav" for i in range(31)]
    ones = ["_".join("1" + format(i, "07b")) + ".wav" for i in range(29)]
    splits = yesno.split_names(sorted(zeros + ones))
    assert [len(splits[s]) for s in ("train", "dev", "test")] == [26, 5, 29]
    assert splits["test"] == sorted(ones)
    assert splits["dev"] == [sorted(zeros)[i] for i in (5, 11, 17, 23, 29)]
    assert sorted(splits["train"] + splits["dev"]) == sorted(zeros)


def test_stray_files_are_skipped_with_a_warning(corpus, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="speechkit.corpus.yesno"):
        counts = yesno.prepare(corpus, tmp_path / "data")
    assert counts == {"train": 5, "dev": 1, "test": 2}
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "README" in warned and ".DS_Store" in warned


def test_wav_scp_pipes_give_16k_audio_of_the_right_duration(prepared, on_path):
    lengths = {f"yesno-{n}": frames_of(i) for i, n in enumerate(NAMES)}
    for split in ("dev", "test"):
        wav_scp = prepared / split / "wav.scp"
        for utt, spec in read_dict(wav_scp).items():
            assert spec.startswith("speechkit resample --rate 16000 ") and spec.endswith(" - |")
        utt2dur = read_dict(prepared / split / "utt2dur")
        for utt, wav, sr in AudioTable(wav_scp, sample_rate=16000).items():
            assert sr == 16000 and wav.dtype == np.float32
            assert abs(len(wav) - 2 * lengths[utt]) <= 1
            assert abs(len(wav) / sr - float(utt2dur[utt])) < 1e-3
            assert 0.1 < np.abs(wav).max() < 0.4  # the 0.3 sine survived resampling


def test_rerun_is_idempotent_and_drops_stale_tables(prepared, corpus):
    before = {p.name: p.read_text() for p in (prepared / "train").iterdir()}
    (prepared / "train" / "utt2style").write_text("s001-0000 happy\n")   # another corpus's extra
    (prepared / "train" / "feats.scp").write_text("s001-0000 feats.ark:10\n")
    assert prepare_corpus.main(["yesno", str(corpus), str(prepared)]) == 0
    after = {p.name: p.read_text() for p in (prepared / "train").iterdir()}
    assert after == before


def test_missing_corpus_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert prepare_corpus.main(["yesno", str(tmp_path / "empty"), str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "waves_yesno" in err[0] and "download_and_untar.sh" in err[0]


def test_a_split_left_empty_is_an_error(tmp_path, capsys):
    waves = tmp_path / "c" / "waves_yesno"
    waves.mkdir(parents=True)
    for i, name in enumerate(NAMES[:6]):       # no name starting with 1: no test set
        write_sine(waves / f"{name}.wav", frames_of(i), 8000)
    assert prepare_corpus.main(["yesno", str(tmp_path / "c"), str(tmp_path / "data")]) == 1
    assert "split 'test'" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


# ---- speechkit resample ----

def test_resample_file_to_file(tmp_path):
    write_sine(tmp_path / "in.wav", 4000, 8000, freq=500.0)
    assert resample_cli.main(["--rate", "16000", str(tmp_path / "in.wav"),
                              str(tmp_path / "out" / "o.wav")]) == 0
    wav, sr = sf.read(str(tmp_path / "out" / "o.wav"))
    info = sf.info(str(tmp_path / "out" / "o.wav"))
    assert sr == 16000 and info.subtype == "PCM_16" and info.channels == 1
    assert len(wav) == 8000
    spectrum = np.abs(np.fft.rfft(wav))
    assert abs(np.argmax(spectrum) * sr / len(wav) - 500.0) < 5.0   # same tone, new rate


def test_resample_to_stdout_and_from_stdin(tmp_path):
    write_sine(tmp_path / "in.wav", 8000, 8000)
    out = run(f"speechkit resample --rate 16000 {tmp_path}/in.wav - "
              f"| speechkit resample --rate 8000 - {tmp_path}/back.wav "
              f"&& speechkit resample --rate 16000 {tmp_path}/in.wav - > {tmp_path}/up.wav")
    assert out.returncode == 0
    up, sr = sf.read(str(tmp_path / "up.wav"))
    assert sr == 16000 and len(up) == 16000
    back, sr = sf.read(str(tmp_path / "back.wav"), dtype="float32")
    orig, _ = sf.read(str(tmp_path / "in.wav"), dtype="float32")
    assert sr == 8000 and len(back) == len(orig)
    assert np.max(np.abs(back[200:-200] - orig[200:-200])) < 0.01


def test_resample_same_rate_copies(tmp_path):
    write_sine(tmp_path / "in.wav", 1234, 16000)
    assert resample_cli.main(["--rate", "16000", str(tmp_path / "in.wav"),
                              str(tmp_path / "o.wav")]) == 0
    assert np.array_equal(sf.read(str(tmp_path / "o.wav"), dtype="int16")[0],
                          sf.read(str(tmp_path / "in.wav"), dtype="int16")[0])


def test_resample_bad_input_is_one_line(tmp_path, capsys):
    assert resample_cli.main(["--rate", "16000", str(tmp_path / "nope.wav"), "-"]) == 1
    (tmp_path / "junk.wav").write_bytes(b"not audio at all")
    assert resample_cli.main(["--rate", "16000", str(tmp_path / "junk.wav"), "-"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert "nope.wav: no such audio file" in err[0] and "junk.wav: cannot decode" in err[1]


# ---- local/download_and_untar.sh (never downloads here) ----

def test_download_unknown_corpus_fails_clearly(tmp_path):
    out = run(f"{DOWNLOAD} librispeech {tmp_path}/x", check=False)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown corpus 'librispeech'" in lines[0] and "yesno" in lines[0]
    assert not (tmp_path / "x").exists()
    assert run(f"{DOWNLOAD} yesno", check=False).returncode != 0   # usage


def test_download_unpacks_an_archive_already_there_and_is_idempotent(tmp_path, corpus):
    dest = tmp_path / "dl"
    dest.mkdir()
    with tarfile.open(dest / "waves_yesno.tar.gz", "w:gz") as tar:
        tar.add(corpus / "waves_yesno", arcname="waves_yesno")
    # An unreachable URL proves no download is attempted while the archive is there.
    out = run(f"{DOWNLOAD} --url http://127.0.0.1:9/none.tar.gz yesno {dest}")
    assert sorted(p.stem for p in (dest / "waves_yesno").glob("*.wav")) == sorted(NAMES)
    assert (dest / ".done").is_file() and "expected 60" in out.stderr
    out = run(f"{DOWNLOAD} yesno {dest}")
    assert "already" in out.stderr


def test_download_failure_is_reported(tmp_path):
    out = run(f"{DOWNLOAD} --url http://127.0.0.1:9/none.tar.gz yesno {tmp_path}/y", check=False)
    assert out.returncode != 0
    assert "error: could not download http://127.0.0.1:9/none.tar.gz" in out.stderr
    assert not (tmp_path / "y" / ".done").exists()
    assert not list((tmp_path / "y").glob("*.part"))

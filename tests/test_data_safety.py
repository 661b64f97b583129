"""Issue 8, data side: nothing written is ever silently wrong, and bad input is one clear line.

Each test plants one defect (a truncated wav, a replaced ark, a second fixer run, a producer
failing mid-pipe, a full disk, ...) and checks the message and that earlier outputs survive.
make_feats.sh reruns are in test_data_make_feats.py.
"""
import errno
import io
import logging
import os
import pickle
import subprocess
import sys

import kaldiio
import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, run, write_tone
from speechkit.bin import compute_feats, data_dir
from speechkit.data import ops
from speechkit.data.validate import validate
from speechkit.errors import SpeechkitError
from speechkit.features.config import load_config, read_typed
from speechkit.io import AudioTable, MatrixWriter, read_matrices, read_table, write_table
from speechkit.io import kaldi as kaldi_io
from speechkit.io.atomic import atomic_write_text
from speechkit.io.kaldi import ABORT_RECORD, load_scp

SK = "speechkit"


def _feats(tmp_path, dims=(5, 3, 4), dim=6, name="f"):
    """An ark/scp of random matrices (frames from `dims`), keyed u0, u1, ..."""
    rng = np.random.default_rng(0)
    mats = {f"u{i}": rng.standard_normal((n, dim)).astype(np.float32) for i, n in enumerate(dims)}
    with MatrixWriter(f"ark,scp:{tmp_path}/{name}.ark,{tmp_path}/{name}.scp") as w:
        for k, m in mats.items():
            w[k] = m
    return mats


def _data_with_feats(tmp_path, mats):
    """A data dir (no audio) whose feats.scp and utt2num_frames describe `mats`."""
    d = tmp_path / "data"
    d.mkdir()
    write_table(d / "utt2spk", {u: u for u in mats})
    write_table(d / "spk2utt", {u: u for u in mats})
    (d / "feats.scp").write_text((tmp_path / "f.scp").read_text())
    write_table(d / "utt2num_frames", {u: len(m) for u, m in mats.items()})
    return d


# --- 1/6: a feats.scp pointing into a missing, replaced or truncated ark -----------------------

def test_validator_reads_feats_scp(tmp_path):
    mats = _feats(tmp_path)
    d = _data_with_feats(tmp_path, mats)
    assert validate(d, no_text=True, no_wav=True) == []
    # The old make_feats.sh failure: a rerun replaced the ark under the merged feats.scp.
    _feats(tmp_path, dims=(7, 2, 4), dim=9)
    problems = validate(d, no_text=True, no_wav=True)
    assert any("feats.scp:1 (key u0): 7 frames, but utt2num_frames says 5" in p for p in problems)
    assert any("feats.scp:2 (key u1): no Kaldi matrix at" in p and "replaced" in p for p in problems)
    (tmp_path / "f.ark").write_bytes((tmp_path / "f.ark").read_bytes()[:40])
    problems = validate(d, no_text=True, no_wav=True)
    assert any("offset" in p and "past the end" in p for p in problems)
    (tmp_path / "f.ark").unlink()
    problems = validate(d, no_text=True, no_wav=True)
    assert any("cannot open ark" in p and "make the features again" in p for p in problems)


def test_validator_wants_one_dimension_and_fitting_cmvn(tmp_path):
    mats = _feats(tmp_path, dims=(5, 3, 4), dim=6)
    with MatrixWriter(f"ark,scp:{tmp_path}/g.ark,{tmp_path}/g.scp") as w:
        w["u2"] = np.zeros((4, 7))
    d = _data_with_feats(tmp_path, mats)
    lines = (d / "feats.scp").read_text().splitlines()
    lines[2] = (tmp_path / "g.scp").read_text().strip()
    (d / "feats.scp").write_text("\n".join(lines) + "\n")
    problems = validate(d, no_text=True, no_wav=True)
    assert any("feats.scp:3 (key u2): dimension 7, but u0 (the first entry) has 6" in p
               for p in problems)
    (d / "feats.scp").write_text((tmp_path / "f.scp").read_text())
    with MatrixWriter(f"ark,scp:{tmp_path}/c.ark,{d}/cmvn.scp", dtype=np.float64) as w:
        for u in mats:
            w[u] = np.zeros((2, 5))
    problems = validate(d, no_text=True, no_wav=True)
    assert problems == [f"{d}/cmvn.scp: stats of dimension 4, features of dimension 6; "
                        f"recompute CMVN stats (utils/compute_cmvn_stats.sh {d})"]


def test_scp_reader_never_unpickles(tmp_path):
    (tmp_path / "evil.ark").write_bytes(b"u0 PKL" + pickle.dumps({"x": 1}))
    (tmp_path / "evil.scp").write_text(f"u0 {tmp_path}/evil.ark:3\n")
    with pytest.raises(SpeechkitError, match=r"evil.scp \(key u0\).*not a Kaldi matrix"):
        load_scp(tmp_path / "evil.scp")["u0"]
    with pytest.raises(SpeechkitError, match="not a Kaldi matrix"):
        list(read_matrices(f"ark:{tmp_path}/evil.ark"))


def test_cmvn_rerun_never_rewrites_an_ark_in_use(tmp_path):
    d = _data_with_feats(tmp_path, _feats(tmp_path))
    script = REPO / "utils" / "compute_cmvn_stats.sh"
    run(f"{script} {d} {tmp_path}/log {tmp_path}/cmvn")
    ops.subset(d, tmp_path / "copy", first=2)   # its cmvn.scp points into the same ark
    assert validate(tmp_path / "copy", no_text=True, no_wav=True) == []
    run(f"{script} {d} {tmp_path}/log {tmp_path}/cmvn")
    assert sorted(p.name for p in (tmp_path / "cmvn").iterdir()) == ["cmvn_data.v2.ark"]
    assert validate(d, no_text=True, no_wav=True) == []
    problems = validate(tmp_path / "copy", no_text=True, no_wav=True)
    assert any("cmvn.scp:1 (key u0): cannot open ark" in p for p in problems)


# --- 3: the fixer keeps the first backup ------------------------------------------------------

def test_fix_twice_keeps_the_originals(datadir):
    original = (datadir / "text").read_text()
    lines = original.splitlines()
    (datadir / "text").write_text("\n".join(lines[1:]) + "\n")
    first = (datadir / "text").read_text()
    assert ops.fix(datadir)[:2] == (5, 6)
    assert (datadir / ".backup" / "text").read_text() == first
    # The user restores text from the backup, the fixer runs again: the originals stay.
    (datadir / "text").write_text("\n".join(lines[2:]) + "\n")
    kept, total, backup = ops.fix(datadir)
    assert (kept, total, backup.name) == (4, 5, ".backup.2")
    assert (datadir / ".backup" / "text").read_text() == first
    assert (datadir / ".backup" / "utt2spk").read_text().count("\n") == 6
    assert (datadir / ".backup.2" / "utt2spk").read_text().count("\n") == 5
    # Nothing left to fix: no third backup.
    assert ops.fix(datadir) == (4, 4, None)
    assert not (datadir / ".backup.3").exists()


def test_fix_message_names_backup(datadir, capsys):
    (datadir / "text").write_text("\n".join((datadir / "text").read_text().splitlines()[1:]) + "\n")
    assert data_dir.main(["fix", str(datadir)]) == 0
    assert f"kept 5 of 6 utterances in {datadir}; the old tables are in {datadir}/.backup" in \
        capsys.readouterr().err
    assert data_dir.main(["fix", str(datadir)]) == 0
    assert "kept 5 of 5 utterances" in capsys.readouterr().err and \
        not (datadir / ".backup.2").exists()


# --- 4: a pipe whose producer fails -----------------------------------------------------------

def _stdout_writer(monkeypatch):
    buf = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buf))
    return buf


def test_stream_writer_marks_a_failure_and_the_reader_stops(monkeypatch, tmp_path):
    buf = _stdout_writer(monkeypatch)
    with pytest.raises(SpeechkitError):
        with MatrixWriter("ark:-") as w:
            w["a"] = np.ones((2, 3))
            raise SpeechkitError("utterance b failed")
    assert buf.getvalue().endswith(ABORT_RECORD)
    (tmp_path / "s.ark").write_bytes(buf.getvalue())
    got = []
    with pytest.raises(SpeechkitError, match="the command writing this stream failed after 1 "
                                             "matrices"):
        for key, _ in read_matrices(f"ark:{tmp_path}/s.ark"):
            got.append(key)
    assert got == ["a"]
    # Kaldi's own readers must choke on it too: kaldiio stands in for them.
    with pytest.raises(Exception):
        list(kaldiio.load_ark(str(tmp_path / "s.ark")))


@pytest.mark.parametrize("cut", [3, 30, -7])
def test_truncated_stream_is_an_error_not_a_traceback(tmp_path, cut):
    _feats(tmp_path)
    (tmp_path / "t.ark").write_bytes((tmp_path / "f.ark").read_bytes()[:cut])
    with pytest.raises(SpeechkitError, match="t.ark"):
        list(read_matrices(f"ark:{tmp_path}/t.ark"))


def test_failing_producer_commits_nothing_at_the_end_of_a_pipe(tmp_path):
    # The producer (copy-feats, to spare a torch start) fails at its third matrix: its ark is gone.
    _feats(tmp_path, name="x")
    before = ((tmp_path / "x.ark").read_bytes(), (tmp_path / "x.scp").read_text())
    _feats(tmp_path, name="a")
    scp = (tmp_path / "a.scp").read_text().splitlines()
    (tmp_path / "in.scp").write_text("\n".join(scp[:2] + [f"u9 {tmp_path}/gone.ark:3"]) + "\n")
    out = run(f"{SK} copy-feats scp:{tmp_path}/in.scp ark:- | "
              f"{SK} copy-feats ark:- ark,scp:{tmp_path}/x.ark,{tmp_path}/x.scp", check=False)
    assert out.returncode != 0
    assert "(key u9): cannot open" in out.stderr
    assert "speechkit copy-feats: error: stdin: the command writing this stream failed after 2 " \
           "matrices" in out.stderr
    assert ((tmp_path / "x.ark").read_bytes(), (tmp_path / "x.scp").read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("x")) == ["x.ark", "x.scp"]


def test_compute_feats_to_a_stream_marks_its_failure(datadir, monkeypatch):
    scp = datadir / "wav.scp"
    scp.write_text(scp.read_text().replace(f"{datadir.parent.parent}/wav/spkB-001.wav", "false |"))
    buf = _stdout_writer(monkeypatch)
    assert compute_feats.main([f"scp:{scp}", "ark:-"]) == 1
    sys.stdout.flush()
    assert buf.getvalue().endswith(ABORT_RECORD)
    keys = [k for k, _ in kaldiio.load_ark(io.BytesIO(buf.getvalue()[:-len(ABORT_RECORD)]))]
    assert keys == ["spkA-000", "spkA-001", "spkA-002", "spkB-000"]


# --- 5: truncated audio ------------------------------------------------------------------------

def _truncated(path, seconds, missing):
    """A wav of `seconds` whose last `missing` seconds of data are cut off (header unchanged)."""
    write_tone(path, seconds=seconds)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - int(missing * 16000) * 2])


def test_truncated_wav_warns_then_fails(tmp_path, caplog):
    _truncated(tmp_path / "a.wav", 1.0, 0.2)
    _truncated(tmp_path / "b.wav", 1.0, 0.6)
    (tmp_path / "wav.scp").write_text(f"a {tmp_path}/a.wav\nb {tmp_path}/b.wav\n"
                                      f"c head -c 8044 {tmp_path}/a.wav |\n")
    table = AudioTable(tmp_path / "wav.scp", sample_rate=16000)
    with caplog.at_level(logging.WARNING):
        wav, _ = table["a"]
    assert len(wav) == 12800
    assert "wav.scp (key a): truncated audio: the wav header promises 1.000 s, the data holds " \
           "0.800 s (0.200 s, 3200 samples missing); using the samples present" in caplog.text
    with pytest.raises(SpeechkitError, match=r"wav.scp \(key b\): truncated audio: .*0.600 s, "
                                             r"9600 samples missing\), not less than the 0.5 s"):
        table["b"]
    # A pipe emitting a short wav: 8044 bytes = 44 of header + 4000 of the 16000 samples.
    with pytest.raises(SpeechkitError, match=r"\(key c\): truncated audio: .* 12000 samples"):
        table["c"]
    lenient = AudioTable(tmp_path / "wav.scp", sample_rate=16000, max_shortfall=1.0)
    assert len(lenient["c"][0]) == 4000


def test_segment_past_the_end_warns_then_fails(tmp_path, caplog):
    write_tone(tmp_path / "r.wav", seconds=1.0)
    (tmp_path / "wav.scp").write_text(f"r {tmp_path}/r.wav\n")
    (tmp_path / "segments").write_text("r-a r 0.5 1.25\nr-b r 0.5 1.5\n")
    table = AudioTable(tmp_path / "wav.scp", tmp_path / "segments", sample_rate=16000)
    with caplog.at_level(logging.WARNING):
        wav, _ = table["r-a"]
    assert len(wav) == 8000
    assert "segments (key r-a): the segment ends at 1.25 s, 0.250 s (4000 samples) past the end " \
           "of recording r (1.000 s); cut at the end of the recording" in caplog.text
    with pytest.raises(SpeechkitError, match=r"segments \(key r-b\): .*0.500 s .*not less than "
                                             r"the 0.5 s tolerated"):
        table["r-b"]


def test_wav_header_only_is_an_error(tmp_path):
    sf.write(str(tmp_path / "e.wav"), np.zeros(0, np.float32), 16000, subtype="PCM_16")
    (tmp_path / "wav.scp").write_text(f"e {tmp_path}/e.wav\n")
    with pytest.raises(SpeechkitError, match=r"\(key e\): the audio holds no samples"):
        AudioTable(tmp_path / "wav.scp")["e"]


# --- 11: write failures are one line -----------------------------------------------------------

def _failing_open(monkeypatch, error):
    real = open

    def fake(path, mode="r", *args, **kwargs):
        if ".tmp" in str(path) and "w" in mode:
            if error == errno.ENOSPC:
                return real("/dev/full", "wb")
            raise PermissionError(error, os.strerror(error), str(path))
        return real(path, mode, *args, **kwargs)
    monkeypatch.setattr(kaldi_io, "open", fake, raising=False)


@pytest.mark.parametrize("error,message", [
    (errno.ENOSPC, "No space left on device; free some space and rerun"),
    (errno.EACCES, "Permission denied; make the directory writable or write elsewhere"),
])
def test_write_failure_is_one_line_and_keeps_previous(datadir, tmp_path, monkeypatch, capsys,
                                                      error, message):
    out = f"ark,scp:{tmp_path}/f.ark,{tmp_path}/f.scp"
    assert compute_feats.main([f"scp:{datadir}/wav.scp", out]) == 0
    before = ((tmp_path / "f.ark").read_bytes(), (tmp_path / "f.scp").read_text())
    capsys.readouterr()
    _failing_open(monkeypatch, error)
    assert compute_feats.main([f"scp:{datadir}/wav.scp", out]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"speechkit compute-feats: error: cannot write {tmp_path}/f.ark" in err and message in err
    assert ((tmp_path / "f.ark").read_bytes(), (tmp_path / "f.scp").read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("f")) == ["f.ark", "f.scp"]


def test_full_stdout_is_one_line(tmp_path):
    _feats(tmp_path)
    out = run(f"{SK} copy-feats scp:{tmp_path}/f.scp ark:- > /dev/full", check=False)
    assert out.returncode == 1
    assert out.stderr == ("speechkit copy-feats: error: cannot write stdout: No space left on "
                          "device; free some space and rerun\n")


def test_num_threads_zero(capsys):
    assert compute_feats.main(["--num-threads", "0", "scp:x", "ark:-"]) == 1
    assert capsys.readouterr().err == ("speechkit compute-feats: error: --num-threads 0: must be "
                                       "at least 1\n")


# --- 12: messages that named the wrong thing ---------------------------------------------------

def test_byte_order_mark(datadir):
    (datadir / "utt2spk").write_bytes(b"\xef\xbb\xbf" + (datadir / "utt2spk").read_bytes())
    with pytest.raises(SpeechkitError, match="utt2spk:1: starts with a UTF-8 byte-order mark"):
        read_table(datadir / "utt2spk")
    problems = validate(datadir, no_feats=True)
    assert any("byte-order mark" in p for p in problems)
    assert not any("not sorted" in p for p in problems)
    ops.fix(datadir)
    assert (datadir / "utt2spk").read_bytes().startswith(b"spkA-000 spkA\n")
    assert validate(datadir, no_feats=True) == []


def test_wav_scp_key_without_path(datadir, capsys):
    lines = (datadir / "wav.scp").read_text().splitlines()
    lines[1] = "spkA-001"
    (datadir / "wav.scp").write_text("\n".join(lines) + "\n")
    problems = validate(datadir, no_feats=True)
    assert f"{datadir}/wav.scp:2 (key spkA-001): nothing after the key; each line is `<key> " \
           f"<audio path or command>`: add the audio path or command or remove the line" in problems
    assert not any("does not exist" in p for p in problems)
    assert compute_feats.main([f"scp:{datadir}/wav.scp", "ark:/dev/null"]) == 1
    assert "wav.scp:2 (key spkA-001): no audio path or command after the key" in \
        capsys.readouterr().err


def test_pipe_emitting_garbage(tmp_path):
    (tmp_path / "wav.scp").write_text("g echo this is not audio |\n")
    with pytest.raises(SpeechkitError) as e:
        AudioTable(tmp_path / "wav.scp")["g"]
    assert "BytesIO" not in str(e.value) and "object at 0x" not in str(e.value)
    assert "(key g): cannot decode audio (Format not recognised.): the command's output is not " \
           "audio (it starts with b'this is not '); the command must write" in str(e.value)


def test_option_error_blames_where_it_was_set(tmp_path, capsys):
    (tmp_path / "fbank.yaml").write_text("num_mel_bins: 40\n")
    assert compute_feats.main(["--config", str(tmp_path / "fbank.yaml"), "--frame-shift", "0",
                               "--print-config"]) == 1
    assert capsys.readouterr().err == ("speechkit compute-feats: error: command line: option "
                                       "frame_shift must be > 0, got 0.0\n")
    (tmp_path / "fbank.yaml").write_text("frame_shift: 0\n")
    with pytest.raises(SpeechkitError, match=f"^{tmp_path}/fbank.yaml: option frame_shift"):
        load_config("fbank", tmp_path / "fbank.yaml", {"num_mel_bins": "40"})
    (tmp_path / "mfcc.yaml").write_text("num_mel_bins: 10\n")
    with pytest.raises(SpeechkitError, match=f"^{tmp_path}/mfcc.yaml: num_ceps 13 > num_mel_bins"):
        load_config("mfcc", tmp_path / "mfcc.yaml")


def test_print_config_is_the_typed_yaml(tmp_path, capsys):
    assert compute_feats.main(["--type", "mfcc", "--num-ceps", "20", "--print-config"]) == 0
    (tmp_path / "feats.yaml").write_text(capsys.readouterr().out)
    kind, options = read_typed(tmp_path / "feats.yaml")
    assert (kind, options) == ("mfcc", load_config("mfcc", None, {"num_ceps": "20"}))
    assert options["num_ceps"] == 20 and options["use_energy"] is True


# --- 13: leftovers of killed writers ------------------------------------------------------------

def _dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_successful_writers_remove_stale_temporaries(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = [tmp_path / f"f.ark.tmp{dead}", tmp_path / f".f.scp.tmp{dead}",
             tmp_path / f".t.tmp{dead}"]
    live = [tmp_path / f"f.ark.tmp{alive}", tmp_path / f"other.ark.tmp{dead}"]
    for p in stale + live:
        p.write_bytes(b"x" * 100)
    _feats(tmp_path)
    atomic_write_text(tmp_path / "t", "new\n")
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in live)


# --- Kaldi's subset_data_dir.sh choices ---------------------------------------------------------

def _speakers(tmp_path, counts):
    """A data dir (tables only) with speakers s0, s1, ... of counts[i] utterances each."""
    d = tmp_path / "src"
    d.mkdir()
    utt2spk = {f"s{i}-{j:03d}": f"s{i}" for i, n in enumerate(counts) for j in range(n)}
    write_table(d / "utt2spk", utt2spk)
    write_table(d / "spk2utt", {s: [u for u in utt2spk if utt2spk[u] == s] for s in
                                dict.fromkeys(utt2spk.values())})
    write_table(d / "text", {u: "a b" for u in utt2spk})
    return d, list(utt2spk)


def test_per_spk_spreads_like_kaldi(tmp_path):
    # Kaldi's awk: skip grows while n*(skip+1) <= #utts; fields 2, 2+skip, ... <= n*skip+1.
    # 24 utts, n=3: skip 8 -> 0, 8, 16. 5 utts: skip 1 -> 0, 1, 2. 2 utts: both. 7 utts: skip 2.
    d, _ = _speakers(tmp_path, [24, 5, 2, 7])
    ops.subset(d, tmp_path / "out", per_spk=3)
    got = list(read_dict_keys(tmp_path / "out" / "utt2spk"))
    assert got == ["s0-000", "s0-008", "s0-016", "s1-000", "s1-001", "s1-002",
                   "s2-000", "s2-001", "s3-000", "s3-002", "s3-004"]


def test_plain_subset_is_subset_scp_pl(tmp_path):
    # subset_scp.pl select_n(0, 10, 3): [0,5) needs 1 -> [2,5) -> [3,5) -> line 4;
    # [5,10) needs 2 -> [5,7) gets 1 -> line 6, [7,10) gets 1 -> [8,10) -> line 9.
    d, utts = _speakers(tmp_path, [4, 6])
    ops.subset(d, tmp_path / "out", num=3)
    assert list(read_dict_keys(tmp_path / "out" / "utt2spk")) == [utts[4], utts[6], utts[9]]
    ops.subset(d, tmp_path / "all", num=10)
    assert list(read_dict_keys(tmp_path / "all" / "utt2spk")) == utts
    for kw in ({"num": 11}, {"first": 11}, {"per_spk": 11}):
        with pytest.raises(SpeechkitError, match="cannot subset to 11 utterances, it holds 10"):
            ops.subset(d, tmp_path / "x", **kw)
    with pytest.raises(SpeechkitError, match="at least 1"):
        ops.subset(d, tmp_path / "x", num=0)


def read_dict_keys(path):
    return [k for k, _ in read_table(path)]


# --- feats.yaml travels with feats.scp ----------------------------------------------------------

def test_feature_config_follows_features(tmp_path):
    mats = _feats(tmp_path)
    a = _data_with_feats(tmp_path, mats)
    (a / "feats.yaml").write_text("type: fbank\nnum_mel_bins: 80\n")
    ops.copy(a, tmp_path / "b", utt_prefix="x-", spk_prefix="x-")
    assert (tmp_path / "b" / "feats.yaml").read_text() == (a / "feats.yaml").read_text()
    (tmp_path / "b" / "feats.yaml").write_text("type: mfcc\n")
    with pytest.raises(SpeechkitError, match="feats.yaml differ: their features were made with "
                                             "different configs"):
        ops.combine(tmp_path / "c", [a, tmp_path / "b"])
    (tmp_path / "b" / "feats.scp").unlink()
    ops.combine(tmp_path / "c", [a, tmp_path / "b"])
    assert not (tmp_path / "c" / "feats.yaml").exists()


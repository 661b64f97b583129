"""speechkit.io: text tables, wav.scp with pipes and segments, ark/scp specifiers."""
import numpy as np
import pytest
import kaldiio

from conftest import write_tone
from speechkit.errors import SpeechkitError
from speechkit.io import (AudioTable, MatrixWriter, read_matrices, read_table, write_table,
                          parse_wspecifier, parse_rspecifier)


def test_table_roundtrip_is_c_sorted(tmp_path):
    # C order puts upper case before lower case and '-' before digits: not locale order.
    write_table(tmp_path / "t", {"b": "2", "B": "x y", "a-1": "", "a1": "z"})
    assert (tmp_path / "t").read_text() == "B x y\na-1\na1 z\nb 2\n"
    assert read_table(tmp_path / "t") == [("B", "x y"), ("a-1", ""), ("a1", "z"), ("b", "2")]


@pytest.mark.parametrize("content,message", [
    ("b 1\na 2\n", "t:2 (key a): not sorted"),
    ("a 1\na 2\n", "t:2 (key a): duplicate key"),
    ("", "empty table"),
    ("a 1\n\nb 2\n", "t:2: empty line"),
])
def test_bad_tables_name_file_line_key(tmp_path, content, message):
    (tmp_path / "t").write_text(content)
    with pytest.raises(SpeechkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_table(tmp_path / "t")


def test_missing_table(tmp_path):
    with pytest.raises(SpeechkitError, match="no such file"):
        read_table(tmp_path / "nope")


def test_wav_scp_paths_pipes_and_segments(tmp_path):
    write_tone(tmp_path / "a.wav", seconds=1.0)
    (tmp_path / "wav.scp").write_text(f"r1 {tmp_path}/a.wav\nr2 cat {tmp_path}/a.wav |\n")
    table = AudioTable(tmp_path / "wav.scp", sample_rate=16000)
    a, sr = table["r1"]
    b, _ = table["r2"]
    assert sr == 16000 and a.shape == (16000,) and np.array_equal(a, b)
    (tmp_path / "segments").write_text("r1-x r1 0.25 0.5\nr2-y r2 0.5 -1\n")
    seg = AudioTable(tmp_path / "wav.scp", tmp_path / "segments", sample_rate=16000)
    items = {k: w for k, w, _ in seg.items()}
    assert np.array_equal(items["r1-x"], a[4000:8000])
    assert np.array_equal(items["r2-y"], a[8000:])


def test_audio_errors_name_table_and_key(tmp_path):
    write_tone(tmp_path / "a8k.wav", sr=8000)
    write_tone(tmp_path / "st.wav", channels=2)
    (tmp_path / "wav.scp").write_text(
        f"k1 {tmp_path}/missing.wav\nk2 {tmp_path}/a8k.wav\nk3 {tmp_path}/st.wav\n"
        f"k4 false |\nk5 cat {tmp_path}/missing.wav |\n")
    table = AudioTable(tmp_path / "wav.scp", sample_rate=16000)
    expected = {"k1": "does not exist", "k2": "sample rate 8000 Hz, expected 16000",
                "k3": "2 channels, expected 1", "k4": "command failed", "k5": "command failed"}
    for key, msg in expected.items():
        with pytest.raises(SpeechkitError, match=rf"wav.scp \(key {key}\): .*{msg}"):
            table[key]


def test_specifiers():
    assert parse_rspecifier("scp:a.scp") == ("scp", "a.scp")
    assert parse_rspecifier("ark,s,cs:-") == ("ark", "-")
    assert parse_wspecifier("ark,scp:a.ark,a.scp") == {"ark": "a.ark", "scp": "a.scp", "text": False}
    assert parse_wspecifier("ark,t:-")["text"] is True
    for bad in ("a.scp", "scp:x", "foo:x"):
        with pytest.raises(SpeechkitError):
            (parse_wspecifier if bad == "scp:x" else parse_rspecifier)(bad)


def test_ark_scp_writer_is_readable_by_kaldiio(tmp_path):
    mats = {f"u{i}": np.random.default_rng(i).standard_normal((5 + i, 3)).astype(np.float32)
            for i in range(4)}
    ark, scp = tmp_path / "f.ark", tmp_path / "f.scp"
    with MatrixWriter(f"ark,scp:{ark},{scp}") as w:
        for k, m in mats.items():
            w[k] = m
    loaded = kaldiio.load_scp(str(scp))
    for k, m in mats.items():
        np.testing.assert_array_equal(loaded[k], m)
    assert dict(read_matrices(f"ark:{ark}")).keys() == mats.keys()
    with MatrixWriter(f"ark,t:{tmp_path}/f.txt") as w:
        w["u0"] = mats["u0"]
    np.testing.assert_allclose(dict(read_matrices(f"ark:{tmp_path}/f.txt"))["u0"], mats["u0"], rtol=1e-6)


def test_failed_writer_leaves_previous_outputs(tmp_path):
    ark, scp = tmp_path / "f.ark", tmp_path / "f.scp"
    with MatrixWriter(f"ark,scp:{ark},{scp}") as w:
        w["old"] = np.ones((2, 2))
    before = (ark.read_bytes(), scp.read_text())
    with pytest.raises(RuntimeError):
        with MatrixWriter(f"ark,scp:{ark},{scp}") as w:
            w["new"] = np.zeros((3, 2))
            raise RuntimeError("killed mid-way")
    assert (ark.read_bytes(), scp.read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.ark", "f.scp"]

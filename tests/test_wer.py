"""speechkit.metrics.wer and `speechkit compute-wer`: jiwer, hand counts, Kaldi's formats."""
import io
import json

import jiwer
import numpy as np
import pytest

from speechkit.bin import compute_wer
from speechkit.errors import SpeechkitError
from speechkit.metrics.wer import (ErrorStats, align, chars, per_utt_lines, score_corpus,
                                   words)


def substitution_range(ref, hyp):
    """(min, max) substitutions over all minimal alignments, by an independent plain DP.

    Every minimal alignment has the same total and the same ins - del (= len(hyp) - len(ref)),
    so its counts are determined by its substitutions; when min == max they are unambiguous.
    """
    m, n = len(ref), len(hyp)
    inf = (float("inf"), 0, 0)
    # cell: (cost, -max subs... ) kept as (cost, min subs, max subs) over minimal paths
    table = [[inf] * (n + 1) for _ in range(m + 1)]
    table[0] = [(j, 0, 0) for j in range(n + 1)]
    for i in range(1, m + 1):
        table[i][0] = (i, 0, 0)
        for j in range(1, n + 1):
            sub = ref[i - 1] != hyp[j - 1]
            moves = [(table[i - 1][j - 1], sub, sub), (table[i - 1][j], 1, 0),
                     (table[i][j - 1], 1, 0)]
            best = min(cell[0] + cost for cell, cost, _ in moves)
            ways = [(cell[1] + s, cell[2] + s) for cell, cost, s in moves
                    if cell[0] + cost == best]
            table[i][j] = (best, min(w[0] for w in ways), max(w[1] for w in ways))
    return table[m][n][1], table[m][n][2]


def random_pair(rng, vocab="abcdefgh", max_len=12):
    """A reference and an edited copy of it, over a small vocabulary so that words repeat."""
    ref = list(rng.choice(list(vocab), size=rng.integers(1, max_len)))
    hyp = []
    for w in ref:
        r = rng.random()
        if r < 0.1:
            continue  # deletion
        hyp.append(rng.choice(list(vocab)) if r < 0.25 else w)
        if rng.random() < 0.1:
            hyp.append(rng.choice(list(vocab)))  # insertion
    return " ".join(ref), " ".join(hyp)


def test_hand_counted_example():
    # the quick brown fox jumps / the brown fax jumps over:
    # C D C S C I -> 1 del (quick), 1 sub (fox->fax), 1 ins (over): 3 / 5 = 60%.
    a = align(words("the quick brown fox jumps"), words("the brown fax jumps over"))
    assert (a.sub, a.ins, a.dels, a.cor, a.errors) == (1, 1, 1, 3, 3)
    assert [op for op, _, _ in a.pairs] == ["C", "D", "C", "S", "C", "I"]
    assert a.pairs[1] == ("D", "quick", None) and a.pairs[5] == ("I", None, "over")
    stats = ErrorStats()
    stats.add(a)
    stats.add(align(words("a b"), words("a b")))
    assert stats.kaldi_line() == "%WER 42.86 [ 3 / 7, 1 ins, 1 del, 1 sub ]"
    assert stats.kaldi_line("CER", partial=True).endswith("1 sub ] [PARTIAL]")
    assert stats.ser_line() == "%SER 50.00 [ 1 / 2 ]"


def test_ties_broken_like_kaldi_align_text():
    # "a b" -> "b c": two substitutions and "del a, C b, ins c" both cost 2; Kaldi's trace-back
    # prefers a match or substitution at each step from the end.
    a = align(["a", "b"], ["b", "c"])
    assert (a.sub, a.ins, a.dels) == (2, 0, 0)
    a = align(["a", "b", "c"], ["a", "c"])
    assert [op for op, _, _ in a.pairs] == ["C", "D", "C"]


@pytest.mark.parametrize("ref,hyp,counts", [
    ("a b c", "", (0, 0, 3, 0)),    # empty hypothesis: all deletions
    ("", "a b", (0, 2, 0, 0)),      # empty reference: all insertions
    ("", "", (0, 0, 0, 0)),
    ("a b c", "a b c", (0, 0, 0, 3)),
])
def test_empty_sides(ref, hyp, counts):
    a = align(words(ref), words(hyp))
    assert (a.sub, a.ins, a.dels, a.cor) == counts


def test_empty_reference_rate_uses_one_as_denominator():
    stats = ErrorStats()
    stats.add(align([], []))
    assert stats.rate == 0.0 and stats.kaldi_line() == "%WER 0.00 [ 0 / 0, 0 ins, 0 del, 0 sub ]"
    stats.add(align([], ["x", "y"]))
    assert stats.rate == 200.0  # jiwer's convention: 2 insertions over no reference words
    assert stats.rate == 100 * jiwer.process_words("", "x y").wer


def test_against_jiwer_on_random_pairs():
    rng = np.random.default_rng(0)
    pairs = [random_pair(rng) for _ in range(300)]
    unambiguous = 0
    for ref, hyp in pairs:
        ours = align(words(ref), words(hyp))
        theirs = jiwer.process_words(ref, hyp)
        assert ours.errors == theirs.substitutions + theirs.deletions + theirs.insertions
        assert ours.ins - ours.dels == theirs.insertions - theirs.deletions
        low, high = substitution_range(words(ref), words(hyp))
        assert low <= ours.sub <= high
        if low == high:
            unambiguous += 1
            assert (ours.sub, ours.ins, ours.dels, ours.cor) == (
                theirs.substitutions, theirs.insertions, theirs.deletions, theirs.hits)
    assert unambiguous > 200  # the comparison of counts did happen

    refs = {f"u{i:03d}": r for i, (r, _) in enumerate(pairs)}
    hyps = {f"u{i:03d}": h for i, (_, h) in enumerate(pairs)}
    result = score_corpus(refs, hyps, cer=True)
    ref_list, hyp_list = list(refs.values()), list(hyps.values())
    assert result.words.rate == pytest.approx(100 * jiwer.wer(ref_list, hyp_list))
    # CER on characters without whitespace: jiwer counts the spaces, so give it none.
    squeeze = [r.replace(" ", "") for r in ref_list], [h.replace(" ", "") for h in hyp_list]
    assert result.chars.rate == pytest.approx(100 * jiwer.cer(*squeeze))
    assert result.words.sentence_errors == sum(r != h for r, h in pairs)


def test_long_sequences_match_jiwer():
    rng = np.random.default_rng(1)
    ref, hyp = random_pair(rng, vocab="abcdefghijklmnopqrstuvwxyz", max_len=400)
    ours = align(chars(ref), chars(hyp))
    theirs = jiwer.process_characters(ref.replace(" ", ""), hyp.replace(" ", ""))
    assert ours.errors == theirs.substitutions + theirs.deletions + theirs.insertions


def test_cer_ignores_word_boundaries():
    a = align(chars("a b"), chars("ab"))
    assert a.errors == 0
    w = align(words("a b"), words("ab"))
    assert (w.sub, w.dels) == (1, 1)
    assert chars(" ab\tc  d ") == ["a", "b", "c", "d"]


def test_per_utt_lines_kaldi_format():
    # Columns centred on the widest cell, two spaces apart, as wer_per_utt_details.pl does
    # (trailing spaces included); the only minimal alignment here is I C C D C S.
    a = align(words("word-A word-B word-C word-D word-E"),
              words("word-Z word-A word-B word-D word-X"))
    assert per_utt_lines("UTT-A", a) == [
        "UTT-A ref    ***   word-A  word-B  word-C  word-D  word-E",
        "UTT-A hyp  word-Z  word-A  word-B    ***   word-D  word-X",
        "UTT-A op      I       C       C       D       C       S  ",
        "UTT-A #csid 3 1 1 1",
    ]
    assert per_utt_lines("u", align([], [])) == ["u ref  ", "u hyp  ", "u op   ", "u #csid 0 0 0 0"]


def test_modes():
    refs = {"u1": "a b", "u2": "c d", "u3": "e"}
    hyps = {"u1": "a b", "u3": "x", "u4": "y"}
    present = score_corpus(refs, hyps, "present")
    assert present.missing == ["u2"] and present.extra == ["u4"]
    assert present.lines() == ["%WER 33.33 [ 1 / 3, 0 ins, 0 del, 1 sub ] [PARTIAL]",
                               "%SER 50.00 [ 1 / 2 ]",
                               "Scored 2 sentences, 1 not present in hyp."]
    everything = score_corpus(refs, hyps, "all")
    assert everything.lines()[0] == "%WER 60.00 [ 3 / 5, 0 ins, 2 del, 1 sub ] [PARTIAL]"
    assert everything.lines()[-1] == "Scored 3 sentences, 1 not present in hyp."
    with pytest.raises(SpeechkitError, match="no hypothesis for utterance u2"):
        score_corpus(refs, hyps, "strict")
    with pytest.raises(SpeechkitError, match="no hypothesis key matches"):
        score_corpus(refs, {"other": "a"}, "present")
    with pytest.raises(SpeechkitError, match="unknown scoring mode"):
        score_corpus(refs, hyps, "some")


@pytest.fixture
def tables(tmp_path):
    # unsorted on purpose: scoring does not need sorted tables; u3's hypothesis is empty
    (tmp_path / "ref").write_text("u2 the cat sat\nu1 a b c d\nu3 hello world\n")
    (tmp_path / "hyp").write_text("u1 a x c e f\nu3\nu2 the cat sat\n")
    return tmp_path / "ref", tmp_path / "hyp"


def test_cli_prints_kaldi_lines_and_writes_files(tables, tmp_path, capsys):
    ref, hyp = tables
    rc = compute_wer.main(["--cer", "--out-dir", str(tmp_path / "dec"), "--details",
                           str(tmp_path / "dec" / "wer_details"), f"ark:{ref}", str(hyp)])
    assert rc == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["%WER 55.56 [ 5 / 9, 1 ins, 2 del, 2 sub ]",
                   "%CER 56.52 [ 13 / 23, 1 ins, 10 del, 2 sub ]",
                   "%SER 66.67 [ 2 / 3 ]",
                   "Scored 3 sentences, 0 not present in hyp."]
    assert (tmp_path / "dec" / "result.txt").read_text().splitlines() == out
    scores = json.loads((tmp_path / "dec" / "scores.json").read_text())
    assert scores["wer"] == pytest.approx(55.5556) and scores["cer"] == pytest.approx(56.5217)
    assert scores["words"]["del"] == 2 and scores["chars"]["ref_tokens"] == 23
    per_utt = (tmp_path / "dec" / "wer_details" / "per_utt").read_text().splitlines()
    assert per_utt[:4] == ["u2 ref  the  cat  sat", "u2 hyp  the  cat  sat",
                           "u2 op    C    C    C ", "u2 #csid 3 0 0 0"]
    assert per_utt[-1] == "u3 #csid 0 0 0 2"
    assert (tmp_path / "dec" / "wer_details" / "per_utt_char").exists()


def test_score_function_for_the_recipe(tables, tmp_path):
    ref, hyp = tables
    scores = compute_wer.score(ref, hyp, out_dir=tmp_path / "dec")
    assert set(scores) >= {"wer", "cer", "ser", "words", "chars"}
    assert scores == json.loads((tmp_path / "dec" / "scores.json").read_text())
    assert compute_wer.score({"u": "a b"}, {"u": "a"}, cer=False)["wer"] == 50.0


def test_cli_stdin_and_errors(tables, tmp_path, capsys, monkeypatch):
    ref, hyp = tables
    monkeypatch.setattr("sys.stdin", io.StringIO("u1 a b c d\n"))
    assert compute_wer.main([str(ref), "-"]) == 0
    assert capsys.readouterr().out.startswith("%WER 0.00 [ 0 / 4, 0 ins, 0 del, 0 sub ] [PARTIAL]")

    assert compute_wer.main(["--mode", "strict", str(ref), str(tmp_path / "nope")]) == 1
    assert "nope: no such file" in capsys.readouterr().err
    (tmp_path / "partial").write_text("u1 a\n")
    assert compute_wer.main(["--mode", "strict", str(ref), str(tmp_path / "partial")]) == 1
    assert "no hypothesis for utterance u2" in capsys.readouterr().err
    (tmp_path / "dup").write_text("u1 a\nu1 b\n")
    assert compute_wer.main([str(ref), str(tmp_path / "dup")]) == 1
    assert "dup:2 (key u1): duplicate key" in capsys.readouterr().err

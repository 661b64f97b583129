"""Word and character error rates, in the format of Kaldi's compute-wer and align-text.

Tokens. Words are the whitespace-separated fields of a transcript. Characters are the Unicode
code points of the transcript with all whitespace removed, as Kaldi's Mandarin recipes score CER
(aishell splits the words into characters); ESPnet instead scores a `<space>` token between
words. So a CER here does not count word-boundary errors ("a b" vs "ab" is 0% CER, 100% WER
with 1 sub and 1 del); the WER does. No other normalisation is done: filter noise tokens and
case before scoring.

Alignment. Minimum edit distance with unit costs. Of the equally minimal alignments, the one
Kaldi's align-text picks: tracing back from the end, prefer a match or substitution, then a
deletion, then an insertion. The total number of errors is the same for every minimal
alignment; the split into sub/ins/del may differ from another tool's (jiwer, sclite).

Rates are percentages of the number of reference tokens N. With N = 0 (every reference empty)
the rate is 100 * errors, i.e. the denominator is max(N, 1): 0.00 when the hypotheses are empty
too, and jiwer's convention otherwise (Kaldi would print inf or nan).
"""
from dataclasses import dataclass, field, fields
from typing import NamedTuple

import numpy as np

from speechkit.errors import SpeechkitError

EPS = "***"  # the empty side of an insertion or deletion, as in Kaldi's scoring details
MODES = ("present", "all", "strict")


def words(text):
    """'a  b c' -> ['a', 'b', 'c']."""
    return text.split()


def chars(text):
    """'ab c' -> ['a', 'b', 'c']: characters without whitespace (see the module doc)."""
    return list("".join(text.split()))


class Alignment(NamedTuple):
    """One minimal alignment: error counts and the aligned (op, ref token, hyp token) triples.

    op is C (correct), S (substitution), I (insertion: ref token None) or D (deletion: hyp
    token None).
    """
    sub: int
    ins: int
    dels: int
    cor: int
    pairs: tuple

    @property
    def errors(self):
        return self.sub + self.ins + self.dels


def _edit_table(ref_ids, hyp_ids):
    """(M+1, N+1) table of edit distances between prefixes, one numpy pass per ref token.

    Within a row, D[i, j] = min(cand[j], D[i, j-1] + 1) with cand the substitution/deletion
    costs; unrolled, D[i, j] = min_k (cand[k] + j - k) = j + cummin(cand - arange)[j].
    """
    m, n = len(ref_ids), len(hyp_ids)
    steps = np.arange(n + 1)
    table = np.empty((m + 1, n + 1), dtype=np.int64)
    table[0] = steps
    hyp = np.asarray(hyp_ids, dtype=np.int64)
    for i in range(1, m + 1):
        prev = table[i - 1]
        cand = np.empty(n + 1, dtype=np.int64)
        cand[0] = prev[0] + 1
        np.minimum(prev[:-1] + (hyp != ref_ids[i - 1]), prev[1:] + 1, out=cand[1:])
        table[i] = np.minimum.accumulate(cand - steps) + steps
    return table


def align(ref, hyp):
    """Align two token sequences (lists of strings): an Alignment (sub, ins, dels, cor, pairs)."""
    vocab = {}
    ref_ids = [vocab.setdefault(t, len(vocab)) for t in ref]
    hyp_ids = [vocab.setdefault(t, len(vocab)) for t in hyp]
    table = _edit_table(ref_ids, hyp_ids)
    pairs, counts = [], {"C": 0, "S": 0, "I": 0, "D": 0}
    i, j = len(ref), len(hyp)
    while i or j:
        here = table[i, j]
        if i and j and table[i - 1, j - 1] + (ref_ids[i - 1] != hyp_ids[j - 1]) == here:
            op = "C" if ref_ids[i - 1] == hyp_ids[j - 1] else "S"
            i, j = i - 1, j - 1
            pairs.append((op, ref[i], hyp[j]))
        elif i and table[i - 1, j] + 1 == here:
            i -= 1
            op = "D"
            pairs.append((op, ref[i], None))
        else:
            j -= 1
            op = "I"
            pairs.append((op, None, hyp[j]))
        counts[op] += 1
    return Alignment(counts["S"], counts["I"], counts["D"], counts["C"], tuple(pairs[::-1]))


def _cjustify(text, width):
    """Centre like Kaldi's wer_per_utt_details.pl (the odd space goes to the left)."""
    right = (width - len(text)) // 2
    return " " * (width - len(text) - right) + text + " " * right


def per_utt_lines(utt, alignment):
    """Kaldi's wer_details/per_utt block, byte for byte: the ref, hyp and op rows in aligned
    columns (centred, so a line may end in spaces), then `utt #csid C S I D`."""
    cells = [(r or EPS, h or EPS, op) for op, r, h in alignment.pairs]
    widths = [max(map(len, cell)) for cell in cells]
    rows = [
        ("ref  ", [_cjustify(c[0], w) for c, w in zip(cells, widths)]),
        ("hyp  ", [_cjustify(c[1], w) for c, w in zip(cells, widths)]),
        ("op   ", [_cjustify(c[2], w) for c, w in zip(cells, widths)]),
    ]
    lines = [f"{utt} {name}{'  '.join(row)}" for name, row in rows]
    a = alignment
    lines.append(f"{utt} #csid {a.cor} {a.sub} {a.ins} {a.dels}")
    return lines


@dataclass
class ErrorStats:
    """Error counts summed over a corpus, for one kind of token (words or characters)."""
    ref_tokens: int = 0
    sub: int = 0
    ins: int = 0
    dels: int = 0
    cor: int = 0
    sentences: int = 0
    sentence_errors: int = 0

    def add(self, alignment):
        self.ref_tokens += alignment.sub + alignment.dels + alignment.cor
        self.sub += alignment.sub
        self.ins += alignment.ins
        self.dels += alignment.dels
        self.cor += alignment.cor
        self.sentences += 1
        self.sentence_errors += alignment.errors > 0
        return alignment

    @property
    def errors(self):
        return self.sub + self.ins + self.dels

    @property
    def rate(self):
        """Error rate in percent (see the module doc for an empty reference)."""
        return 100.0 * self.errors / max(self.ref_tokens, 1)

    @property
    def sentence_rate(self):
        return 100.0 * self.sentence_errors / max(self.sentences, 1)

    def kaldi_line(self, name="WER", partial=False):
        """'%WER 12.34 [ 56 / 454, 10 ins, 20 del, 26 sub ]', then ' [PARTIAL]' if partial."""
        return (f"%{name} {self.rate:.2f} [ {self.errors} / {self.ref_tokens}, {self.ins} ins, "
                f"{self.dels} del, {self.sub} sub ]" + (" [PARTIAL]" if partial else ""))

    def ser_line(self):
        """'%SER 10.00 [ 2 / 20 ]'."""
        return f"%SER {self.sentence_rate:.2f} [ {self.sentence_errors} / {self.sentences} ]"

    def as_dict(self):
        """Counts under Kaldi's names (ins, del, sub), the total errors and the rate."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["del"] = out.pop("dels")
        out.update(errors=self.errors, rate=round(self.rate, 4))
        return out


@dataclass
class CorpusScore:
    """What scoring a hypothesis table against a reference table found."""
    mode: str
    words: ErrorStats = field(default_factory=ErrorStats)
    chars: ErrorStats | None = None  # with cer=True
    missing: list = field(default_factory=list)  # reference keys with no hypothesis
    extra: list = field(default_factory=list)  # hypothesis keys with no reference (ignored)
    details: list = field(default_factory=list)  # (utt, word alignment, char alignment or None)

    def lines(self):
        """compute-wer's report: %WER, %CER (when scored), %SER and the 'Scored' line."""
        partial = bool(self.missing)
        out = [self.words.kaldi_line("WER", partial)]
        if self.chars is not None:
            out.append(self.chars.kaldi_line("CER", partial))
        out.append(self.words.ser_line())
        out.append(f"Scored {self.words.sentences} sentences, {len(self.missing)} not present "
                   f"in hyp.")
        return out

    def as_dict(self):
        """The scores.json record: rates in percent, and the counts behind them."""
        out = {"wer": round(self.words.rate, 4)}
        if self.chars is not None:
            out["cer"] = round(self.chars.rate, 4)
        out.update(ser=round(self.words.sentence_rate, 4), mode=self.mode,
                   sentences=self.words.sentences, missing=len(self.missing),
                   extra=len(self.extra), words=self.words.as_dict())
        if self.chars is not None:
            out["chars"] = self.chars.as_dict()
        return out


def score_corpus(refs, hyps, mode="present", cer=False):
    """Score {utt: transcript} hypotheses against references, as Kaldi's compute-wer does.

    mode 'present' scores the utterances that have a hypothesis, 'all' scores a missing one as
    empty (all deletions), 'strict' makes a missing one an error naming it. The result lists the
    missing ones, and its report's %WER line ends in [PARTIAL] if there are any. Hypotheses
    without a reference are ignored and listed in `extra`. Transcripts are strings.
    """
    if mode not in MODES:
        raise SpeechkitError(f"unknown scoring mode '{mode}': use one of {', '.join(MODES)}")
    result = CorpusScore(mode, chars=ErrorStats() if cer else None)
    result.extra = [k for k in hyps if k not in refs]
    for utt, ref in refs.items():
        hyp = hyps.get(utt)
        if hyp is None:
            if mode == "strict":
                raise SpeechkitError(f"no hypothesis for utterance {utt} (mode strict); use "
                                     f"--mode present or all to score without it")
            result.missing.append(utt)
            if mode == "present":
                continue
            hyp = ""
        word_ali = result.words.add(align(words(ref), words(hyp)))
        char_ali = result.chars.add(align(chars(ref), chars(hyp))) if cer else None
        result.details.append((utt, word_ali, char_ali))
    if not result.details:
        raise SpeechkitError(f"no hypothesis key matches a reference key (references like "
                             f"{next(iter(refs), None)}, hypotheses like {next(iter(hyps), None)})")
    return result

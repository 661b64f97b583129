"""Speaker-recognition data dirs from TIMIT (LDC93S1), with the 40-speaker clustering protocol.

Layout expected in SRC (the LDC disc; upper or lower case alike):

    SRC/TRAIN/DR1/FCJF0/SA1.WAV      NIST SPHERE, 16 kHz 16-bit PCM (not compressed)
    SRC/TRAIN/DR1/FCJF0/SA1.TXT      `0 46797 She had your dark suit in greasy wash water ...`
    SRC/TEST/DR1/FAKS0/...           (.PHN and .WRD files are not used)

(SRC may also hold that tree one or two levels down, e.g. SRC/TIMIT/TRAIN or
SRC/timit/TIMIT/TRAIN.) soundfile reads NIST SPHERE, so wav.scp points at the .WAV files
themselves. Files converted to RIFF (`SA1.WAV.wav`) are not picked up; a compressed (shorten)
SPHERE file is an error that says to convert it with sph2pipe.

The original's protocol (Stadelmann & Freisleben 2009, reused by Lukic et al. 2016): the first
num_test_speakers (40) speakers of TEST/ in lexicographic order of their path (DR1's 11, DR2's
26 and the first 3 of DR3: FAKS0 ... MWVW0, FCMH0, FKMS0, FPKT0 on the full corpus), each with
its 10 sentences in lexicographic order of the file name (SA1, SA2, SI..., SX...); the first 8
form one utterance of the speaker, the last 2 a second one, and clustering those 2 x 40
utterances gives the misclassification rate. Sets (speakers disjoint, except the protocol's
three views of the same 40):

    train      every speaker of TRAIN/ and the TEST/ speakers after the first
               num_test_speakers + dev_speakers (590 - dev_speakers speakers on the full corpus)
    dev        the dev_speakers (20) TEST/ speakers after the 40, with trials: for thresholds
    test       the 40 test speakers, all their sentences, with trials (verification)
    test40_a   the same 40 speakers, their first 8 sentences each (the protocol's utterance 1)
    test40_b   the same 40 speakers, their last 2 sentences each (the protocol's utterance 2)

(named test<N>_a and test<N>_b for num_test_speakers=N; a rerun removes the views of another N).

In test40_a and test40_b each sentence stays its own utterance (same ids as in test); the
clustering stage pools a speaker's sentences of one set into one utterance.

Ids: speaker `FAKS0` (as on the disc, in upper case), utterance `FAKS0-SA1`. `text` is the
sentence of the .TXT file without its two sample numbers; `spk2gender` comes from the
speaker id's first letter (M or F).
"""
import logging
import re
import shutil
from pathlib import Path

from speechkit.corpus.registry import register
from speechkit.corpus.speaker import (NUM_TRIALS, SEED, audio_entry, write_made_trials,
                                      write_set)
from speechkit.errors import SpeechkitError
from speechkit.progress import progress

log = logging.getLogger(__name__)

NUM_TEST_SPEAKERS = 40
DEV_SPEAKERS = 20
SENTENCES = 10
FIRST_PART = 8          # the protocol's first utterance: the first 8 sentences
SPEAKER_RE = re.compile(r"^[MF][A-Z]{3}[0-9]$")
SENTENCE_RE = re.compile(r"^S[AIX][0-9]+$")
PROTOCOL_RE = re.compile(r"^test[0-9]+_[ab]$")


def _child(parent, name):
    """parent/name, matching the case of the name on disk; None if absent."""
    for path in parent.iterdir():
        if path.is_dir() and path.name.upper() == name:
            return path
    return None


def find_root(src):
    """The directory holding TRAIN/ and TEST/: SRC, or one or two levels below it."""
    src = Path(src)
    level = [src] if src.is_dir() else []
    for _ in range(3):
        for cand in level:
            if _child(cand, "TRAIN") and _child(cand, "TEST"):
                return cand
        level = [p for cand in level for p in sorted(cand.iterdir()) if p.is_dir()]
    raise SpeechkitError(f"{src}: no TRAIN/ and TEST/ directories of TIMIT (TRAIN/DR1/FCJF0/"
                         f"SA1.WAV ...); copy the LDC disc's TIMIT tree there")


def list_speakers(part_dir):
    """[(speaker id, directory)] of TRAIN/ or TEST/, in lexicographic order of the path."""
    out = []
    for region in sorted(p for p in part_dir.iterdir() if p.is_dir()):
        for spk_dir in sorted(p for p in region.iterdir() if p.is_dir()):
            if SPEAKER_RE.match(spk_dir.name.upper()):
                out.append((spk_dir.name.upper(), spk_dir))
            else:
                log.warning("timit: ignoring %s: not a speaker directory like FCJF0", spk_dir)
    if not out:
        raise SpeechkitError(f"{part_dir}: no DR*/<speaker>/ directories; is TIMIT complete?")
    return out


def list_sentences(spk_dir):
    """[(sentence id, .WAV path, .TXT path)] of a speaker, in lexicographic order of the name."""
    files = {}
    for path in spk_dir.iterdir():
        stem, _, ext = path.name.upper().partition(".")
        if SENTENCE_RE.match(stem) and ext in ("WAV", "TXT"):
            files.setdefault(stem, {})[ext] = path
    out = []
    for sentence in sorted(files):
        if "WAV" not in files[sentence]:
            continue
        if "TXT" not in files[sentence]:
            raise SpeechkitError(f"{spk_dir}: {sentence}.WAV has no {sentence}.TXT beside it; "
                                 f"is TIMIT complete?")
        out.append((sentence, files[sentence]["WAV"], files[sentence]["TXT"]))
    return out


def read_sentence(txt):
    """The words of a TIMIT .TXT file: `0 46797 She had ...` -> `She had ...`."""
    fields = txt.read_text(encoding="utf-8", errors="replace").split()
    if len(fields) < 3 or not (fields[0].isdigit() and fields[1].isdigit()):
        raise SpeechkitError(f"{txt}: expected `<start> <end> <sentence>`, got "
                             f"{' '.join(fields)[:60]!r}")
    return " ".join(fields[2:])


def speaker_rows(speaker, spk_dir):
    """[(utt, speaker, text, wav path)] of one speaker's sentences, in protocol order."""
    return [(f"{speaker}-{sentence}", speaker, read_sentence(txt), wav)
            for sentence, wav, txt in list_sentences(spk_dir)]


def _audio_entry(path):
    try:
        return audio_entry(path)
    except SpeechkitError as e:
        raise SpeechkitError(f"{e}; a shorten-compressed SPHERE file must be converted first "
                             f"(`sph2pipe -f wav {path} out.wav`)") from None


def datadir_tables(rows):
    tables = {n: {} for n in ("wav.scp", "text", "utt2spk", "utt2dur", "spk2gender")}
    for utt, speaker, text, path in progress(rows, desc="timit"):
        tables["wav.scp"][utt], duration = _audio_entry(path)
        tables["text"][utt] = text
        tables["utt2spk"][utt] = speaker
        tables["utt2dur"][utt] = f"{duration:.4f}"
        tables["spk2gender"][speaker] = speaker[0].lower()
    return tables


def view(tables, utts):
    """The tables restricted to `utts` (spk2gender kept whole: every speaker stays)."""
    keep = set(utts)
    return {name: dict(values) if name == "spk2gender" else
            {k: v for k, v in values.items() if k in keep} for name, values in tables.items()}


def protocol_rows(test_rows):
    """(first part, second part) of the 40-speaker protocol: per speaker its first FIRST_PART
    sentences and the rest."""
    by_speaker = {}
    for row in test_rows:
        by_speaker.setdefault(row[1], []).append(row)
    first, second = [], []
    for speaker, rows in by_speaker.items():
        if len(rows) != SENTENCES:
            raise SpeechkitError(f"timit: test speaker {speaker} has {len(rows)} sentences, the "
                                 f"protocol needs {SENTENCES}; is TIMIT complete?")
        first += rows[:FIRST_PART]
        second += rows[FIRST_PART:]
    return first, second


@register("timit")
def prepare(src, data_root, num_test_speakers=NUM_TEST_SPEAKERS, dev_speakers=DEV_SPEAKERS,
            num_trials=NUM_TRIALS, seed=SEED):
    """Write train, dev (+trials), test (+trials), test40_a, test40_b -> {set: utterances}.

    The two protocol sets are named test<N>_a and test<N>_b for N = num_test_speakers.
    """
    root = find_root(src)
    train_speakers = list_speakers(_child(root, "TRAIN"))
    test_part = list_speakers(_child(root, "TEST"))
    if num_test_speakers < 2 or dev_speakers < 2 or \
            num_test_speakers + dev_speakers > len(test_part):
        raise SpeechkitError(f"num_test_speakers={num_test_speakers} and dev_speakers="
                             f"{dev_speakers} must be >= 2 (trials need two speakers) and fit in "
                             f"the {len(test_part)} TEST/ speakers")
    test_speakers = test_part[:num_test_speakers]
    dev = test_part[num_test_speakers:num_test_speakers + dev_speakers]
    train = train_speakers + test_part[num_test_speakers + dev_speakers:]
    ids = [spk for spk, _ in train_speakers + test_part]
    if len(set(ids)) != len(ids):
        raise SpeechkitError(f"{root}: a speaker id occurs twice (e.g. "
                             f"{sorted(s for s in ids if ids.count(s) > 1)[0]})")
    rows = {name: [r for spk, d in speakers for r in speaker_rows(spk, d)]
            for name, speakers in (("train", train), ("dev", dev), ("test", test_speakers))}
    views = protocol_rows(rows["test"])
    counts = {}
    for name, part in rows.items():
        tables = datadir_tables(part)
        counts[name] = write_set(data_root, name, tables)
        if name != "train":
            write_made_trials(data_root, name, tables["utt2spk"], num_trials, seed)
    for old in Path(data_root).glob("test*_[ab]"):     # views of an earlier num_test_speakers
        if PROTOCOL_RE.match(old.name) and old.is_dir():
            shutil.rmtree(old)
    for suffix, part in zip("ab", views):      # `tables` is test's now: the views reuse it
        name = f"test{num_test_speakers}_{suffix}"
        counts[name] = write_set(data_root, name, view(tables, [r[0] for r in part]))
    return counts

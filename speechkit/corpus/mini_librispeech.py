"""Speaker-recognition data dirs from Mini LibriSpeech (openslr resource 31).

Layout expected in SRC (what unpacking train-clean-5.tar.gz and dev-clean-2.tar.gz leaves):

    SRC/LibriSpeech/train-clean-5/<spk>/<chapter>/<spk>-<chapter>-<nnnn>.flac
    SRC/LibriSpeech/train-clean-5/<spk>/<chapter>/<spk>-<chapter>.trans.txt
    SRC/LibriSpeech/dev-clean-2/...                  (the same)
    SRC/LibriSpeech/SPEAKERS.TXT                     (optional: gives spk2gender)

(SRC may also be the LibriSpeech dir itself.) A `.trans.txt` line is `<utt> TRANSCRIPT`; a
line whose flac is missing is an error, a flac without a line is skipped with a warning.

Sets (speakers disjoint):

    train   every speaker of train-clean-5
    dev     dev_speakers (8) speakers of dev-clean-2, drawn by seed (0): for thresholds
    test    the other speakers of dev-clean-2

dev and test get `trials` (speechkit.data.trials: num_trials balanced pairs, drawn by seed).

Ids. The speaker is the reader (the first directory level, `1272`), not Kaldi's ASR
`<reader>-<chapter>`: a reader's chapters are one speaker here. Utterance ids are the file
names (`1272-128104-0000`), so the speaker id is a prefix. Transcripts are kept as they are
(upper case). wav.scp points at the flac files themselves (soundfile reads flac; nothing is
converted); a file not at 16 kHz gets a `speechkit resample` pipe.
"""
import logging
import re
from pathlib import Path

from speechkit.corpus.registry import register
from speechkit.corpus.speaker import (NUM_TRIALS, SEED, audio_entry, pick_speakers,
                                      write_made_trials, write_set)
from speechkit.errors import SpeechkitError, where
from speechkit.progress import progress

log = logging.getLogger(__name__)

TRAIN_PART = "train-clean-5"
EVAL_PART = "dev-clean-2"
SPEAKERS_TXT = "SPEAKERS.TXT"
DEV_SPEAKERS = 8
UTT_RE = re.compile(r"^(\d+)-(\d+)-(\d+)$")


def find_root(src):
    """SRC/LibriSpeech, or SRC itself, holding both parts."""
    src = Path(src)
    for cand in (src / "LibriSpeech", src):
        if (cand / TRAIN_PART).is_dir() and (cand / EVAL_PART).is_dir():
            return cand
    raise SpeechkitError(f"{src}: no LibriSpeech/{TRAIN_PART} and LibriSpeech/{EVAL_PART}; "
                         f"download and unpack Mini LibriSpeech (openslr 31) there")


def _read_trans(path):
    """{utt: (line number, transcript)} of one .trans.txt."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            utt, _, text = line.strip().partition(" ")
            if not utt:
                continue
            if not UTT_RE.match(utt):
                raise SpeechkitError(f"{where(path, lineno)}: expected `<spk>-<chapter>-<nnnn> "
                                     f"TRANSCRIPT`, got {line.strip()!r}")
            out[utt] = (lineno, text.strip())
    return out


def list_part(part_dir):
    """[(utt, speaker, transcript, flac path)] of one part, sorted by utterance."""
    rows = []
    for trans in sorted(part_dir.glob("*/*/*.trans.txt")):
        speaker = trans.parent.parent.name
        flacs = {p.stem: p for p in trans.parent.glob("*.flac")}
        texts = _read_trans(trans)
        for utt, (lineno, text) in texts.items():
            if not utt.startswith(f"{speaker}-"):
                raise SpeechkitError(f"{where(trans, lineno, utt)}: not an utterance of speaker "
                                     f"{speaker}; is the tree rearranged?")
            if utt not in flacs:
                raise SpeechkitError(f"{where(trans, lineno, utt)}: no {utt}.flac beside it; is "
                                     f"the archive fully unpacked?")
            rows.append((utt, speaker, text, flacs[utt]))
        for stem in sorted(set(flacs) - set(texts)):
            log.warning("mini_librispeech: ignoring %s: not in %s", flacs[stem], trans.name)
    if not rows:
        raise SpeechkitError(f"{part_dir}: no <spk>/<chapter>/*.trans.txt with flac files; is "
                             f"the archive fully unpacked?")
    return sorted(rows)


def read_genders(root):
    """{speaker: 'm'|'f'} from SPEAKERS.TXT (`ID | SEX | SUBSET | MINUTES | NAME`), or {}."""
    path = root / SPEAKERS_TXT
    if not path.is_file():
        return {}
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = [x.strip() for x in line.split("|")]
            if line.startswith(";") or len(fields) < 2 or fields[1] not in ("M", "F"):
                continue
            out[fields[0]] = fields[1].lower()
    return out


def datadir_tables(rows, genders):
    tables = {n: {} for n in ("wav.scp", "text", "utt2spk", "utt2dur")}
    for utt, speaker, text, path in progress(rows, desc="mini_librispeech"):
        tables["wav.scp"][utt], duration = audio_entry(path)
        tables["text"][utt] = text
        tables["utt2spk"][utt] = speaker
        tables["utt2dur"][utt] = f"{duration:.4f}"
    speakers = set(tables["utt2spk"].values())
    if genders and speakers <= set(genders):
        tables["spk2gender"] = {s: genders[s] for s in speakers}
    elif genders:
        log.warning("mini_librispeech: %s lacks some speakers; no spk2gender written",
                    SPEAKERS_TXT)
    return tables


@register("mini_librispeech")
def prepare(src, data_root, dev_speakers=DEV_SPEAKERS, num_trials=NUM_TRIALS, seed=SEED):
    """Write train, dev (+trials), test (+trials) -> {set: number of utterances}."""
    root = find_root(src)
    genders = read_genders(root)
    train = list_part(root / TRAIN_PART)
    held_out = list_part(root / EVAL_PART)
    eval_speakers = sorted({spk for _, spk, _, _ in held_out})
    overlap = {spk for _, spk, _, _ in train} & set(eval_speakers)
    if overlap:
        raise SpeechkitError(f"{root}: speaker {sorted(overlap)[0]} is in both {TRAIN_PART} and "
                             f"{EVAL_PART}; the parts must be speaker-disjoint")
    if not 2 <= dev_speakers <= len(eval_speakers) - 2:
        raise SpeechkitError(f"dev_speakers={dev_speakers}: {EVAL_PART} has {len(eval_speakers)} "
                             f"speakers; give 2..{len(eval_speakers) - 2} so that dev and test "
                             f"have two or more each (trials need two speakers)")
    dev = set(pick_speakers(eval_speakers, dev_speakers, seed, "mini_librispeech-dev"))
    sets = {"train": train, "dev": [r for r in held_out if r[1] in dev],
            "test": [r for r in held_out if r[1] not in dev]}
    counts = {}
    for name, rows in sets.items():
        tables = datadir_tables(rows, genders)
        counts[name] = write_set(data_root, name, tables)
        if name != "train":
            write_made_trials(data_root, name, tables["utt2spk"], num_trials, seed)
    return counts

"""Data dirs from RAVDESS speech (Livingstone & Russo 2018; zenodo record 1188976,
Audio_Speech_Actors_01-24.zip), as the archive unpacks:

    SRC/Actor_01/03-01-01-01-01-01-01.wav ... SRC/Actor_24/...   1440 files, 48 kHz, 16-bit

(SRC may also be a directory holding one subdirectory with the Actor_* dirs.) A name has seven
two-digit fields, modality-channel-emotion-intensity-statement-repetition-actor:

    modality    01 full AV, 02 video only, 03 audio only
    channel     01 speech, 02 song
    emotion     01 neutral 02 calm 03 happy 04 sad 05 angry 06 fearful 07 disgust 08 surprised
    intensity   01 normal, 02 strong (none for neutral)
    statement   01 "Kids are talking by the door", 02 "Dogs are sitting by the door"
    repetition  01, 02
    actor       01..24; odd actors are male, even ones female

Only audio-only speech (03-01-...) is kept; other files in the tree (song from the other zip,
stray files) are skipped with a warning. The actor field must agree with its Actor_NN dir.

Written, as for every emotion corpus (speechkit.corpus.emotion): DATA_ROOT/all and
DATA_ROOT/fold<i>/{train,dev,test}, folds by actor. Speaker `actor12`, utterance
`actor12-03-01-06-01-02-01-12`; `text` the statement (lower case, no punctuation); `utt2emo`
the emotion (disgust is written `disgusted`, as in emotion.EMOTIONS); `utt2intensity` normal or
strong; `spk2gender` m or f. wav.scp resamples to 16 kHz through a pipe
(`speechkit resample --rate 16000 /abs/Actor_12/03-01-06-01-02-01-12.wav - |`).
Options: folds=4, seed=0, dev_share=0.2 (see speechkit.corpus.emotion).
"""
import logging
import re
from pathlib import Path

from speechkit.corpus import emotion
from speechkit.corpus.registry import register
from speechkit.errors import SpeechkitError

log = logging.getLogger(__name__)

ACTOR_DIR_RE = re.compile(r"^Actor_(\d{2})$")
NAME_RE = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})\.wav$")
FIELDS = ("modality", "channel", "emotion", "intensity", "statement", "repetition", "actor")
AUDIO_ONLY, SPEECH = "03", "01"
EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
            "06": "fearful", "07": "disgusted", "08": "surprised"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "kids are talking by the door", "02": "dogs are sitting by the door"}
NUM_FILES = 1440


def find_root(src):
    """SRC, or its one subdirectory, holding the Actor_NN dirs."""
    src = Path(src)
    subdirs = sorted(p for p in src.iterdir() if p.is_dir()) if src.is_dir() else []
    for cand in [src] + subdirs:
        if cand.is_dir() and any(ACTOR_DIR_RE.match(p.name) for p in cand.iterdir() if p.is_dir()):
            return cand
    raise SpeechkitError(f"{src}: no Actor_01 ... Actor_24 directories; download and unpack "
                         f"Audio_Speech_Actors_01-24.zip there (`local/download_and_untar.sh "
                         f"ravdess {src}`)")


def parse_name(name):
    """'03-01-06-01-02-01-12.wav' -> {field: two-digit code}, or None if not named so."""
    m = NAME_RE.match(name)
    return dict(zip(FIELDS, m.groups())) if m else None


def _check_codes(path, fields):
    for field, table in (("emotion", EMOTIONS), ("intensity", INTENSITIES),
                         ("statement", STATEMENTS)):
        if fields[field] not in table:
            raise SpeechkitError(f"{path}: {field} code {fields[field]} is not one of "
                                 f"{', '.join(table)}; is this a RAVDESS file?")


def list_speech(root):
    """{utt: (path, fields)} of the audio-only speech files under root/Actor_NN/."""
    found = {}
    for actor_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        m = ACTOR_DIR_RE.match(actor_dir.name)
        if not m:
            log.warning("ravdess: ignoring %s: not an Actor_NN directory", actor_dir)
            continue
        for path in sorted(actor_dir.iterdir()):
            fields = parse_name(path.name) if path.is_file() else None
            if fields is None:
                log.warning("ravdess: ignoring %s: not named like 03-01-06-01-02-01-12.wav", path)
                continue
            if (fields["modality"], fields["channel"]) != (AUDIO_ONLY, SPEECH):
                log.warning("ravdess: ignoring %s: not audio-only speech (03-01-...)", path)
                continue
            if fields["actor"] != m.group(1):
                raise SpeechkitError(f"{path}: actor field {fields['actor']} but the directory "
                                     f"is {actor_dir.name}; unpack the archive again")
            _check_codes(path, fields)
            found[f"actor{fields['actor']}-{path.stem}"] = (path, fields)
    if not found:
        raise SpeechkitError(f"{root}: no audio-only speech files (Actor_NN/03-01-*.wav); is "
                             f"Audio_Speech_Actors_01-24.zip unpacked there?")
    return found


def datadir_tables(found, data_root):
    utts = sorted(found)
    wav_scp, utt2dur = emotion.audio_tables({u: found[u][0] for u in utts}, data_root)
    fields = {u: found[u][1] for u in utts}
    speakers = sorted({f"actor{f['actor']}" for f in fields.values()})
    return {
        "wav.scp": wav_scp,
        "text": {u: STATEMENTS[f["statement"]] for u, f in fields.items()},
        "utt2spk": {u: f"actor{f['actor']}" for u, f in fields.items()},
        "utt2dur": utt2dur,
        "utt2emo": {u: EMOTIONS[f["emotion"]] for u, f in fields.items()},
        "utt2intensity": {u: INTENSITIES[f["intensity"]] for u, f in fields.items()},
        "spk2gender": {s: "m" if int(s[len("actor"):]) % 2 else "f" for s in speakers},
    }


@register("ravdess")
def prepare(src, data_root, folds=emotion.FOLDS, seed=emotion.SEED,
            dev_share=emotion.DEV_SHARE):
    """Write all/ and fold<i>/{train,dev,test} under data_root -> {dir: utterances}."""
    found = list_speech(find_root(src))
    if len(found) != NUM_FILES:
        log.warning("ravdess: %d speech files; the full corpus has %d", len(found), NUM_FILES)
    return emotion.write_emotion_dirs(datadir_tables(found, data_root), data_root, folds, seed,
                                      dev_share)

"""Data dirs from the Berlin Database of Emotional Speech (EmoDB; Burkhardt et al. 2005,
emodb.bilderbar.info, download.zip), as the archive unpacks:

    SRC/wav/03a01Fa.wav ...       535 files, 16 kHz, 16-bit mono
    SRC/lablaut/ SRC/labsilb/ SRC/silb/ SRC/erkennung.txt ...     not used

(SRC may also be the wav dir itself, or a directory holding one subdirectory with wav/.) A name
is speaker (2 digits), text code (a01 a02 a04 a05 a07 b01 b02 b03 b09 b10), emotion (one German
initial), version (a, b, ...): 03a01Fa is speaker 03 reading a01 with Freude, first version.

    W Wut -> angry    L Langeweile -> bored   E Ekel -> disgusted   A Angst -> fearful
    F Freude -> happy T Trauer -> sad         N Neutral -> neutral

Ten speakers: 03 08 09 10 11 12 13 14 15 16 (03 10 11 12 15 male, the others female).

Written, as for every emotion corpus (speechkit.corpus.emotion): DATA_ROOT/all and
DATA_ROOT/fold<i>/{train,dev,test}, folds by speaker (with 10 speakers and 4 folds, two folds
test 3 speakers and two test 2). The speaker id is the two digits and the utterance id the file
name without .wav (03a01Fa), which starts with it; `text` the German sentence (lower case, no
punctuation); `utt2emo` the emotion; `spk2gender` m or f. The files are 16 kHz already, so
wav.scp holds their paths. Options: folds=4, seed=0, dev_share=0.2.
"""
import logging
import re
from pathlib import Path

from speechkit.corpus import emotion
from speechkit.corpus.registry import register
from speechkit.errors import SpeechkitError

log = logging.getLogger(__name__)

WAV_DIR = "wav"
NAME_RE = re.compile(r"^(\d{2})([ab]\d{2})([A-Z])([a-z])\.wav$")
EMOTIONS = {"W": "angry", "L": "bored", "E": "disgusted", "A": "fearful", "F": "happy",
            "T": "sad", "N": "neutral"}
GENDERS = {"03": "m", "08": "f", "09": "f", "10": "m", "11": "m", "12": "m", "13": "f",
           "14": "f", "15": "m", "16": "f"}
TEXTS = {
    "a01": "der lappen liegt auf dem eisschrank",
    "a02": "das will sie am mittwoch abgeben",
    "a04": "heute abend könnte ich es ihm sagen",
    "a05": "das schwarze stück papier befindet sich da oben neben dem holzstück",
    "a07": "in sieben stunden wird es soweit sein",
    "b01": "was sind denn das für tüten die da unter dem tisch stehen",
    "b02": "sie haben es gerade hochgetragen und jetzt gehen sie wieder runter",
    "b03": "an den wochenenden bin ich jetzt immer nach hause gefahren und habe agnes besucht",
    "b09": "ich will das eben wegbringen und dann mit karl was trinken gehen",
    "b10": "die wird auf dem platz sein wo wir sie immer hinlegen",
}
NUM_FILES = 535


def find_wav_dir(src):
    """SRC/wav, SRC itself when it holds the recordings, or <the one subdir of SRC>/wav."""
    src = Path(src)
    subdirs = sorted(p for p in src.iterdir() if p.is_dir()) if src.is_dir() else []
    for cand in [src / WAV_DIR] + [d / WAV_DIR for d in subdirs]:
        if cand.is_dir():
            return cand
    if any(NAME_RE.match(p.name) for p in (src.iterdir() if src.is_dir() else [])):
        return src
    raise SpeechkitError(f"{src}: no {WAV_DIR}/ directory with EmoDB recordings (03a01Fa.wav "
                         f"...); download and unpack download.zip there "
                         f"(`local/download_and_untar.sh emodb {src}`)")


def parse_name(name):
    """'03a01Fa.wav' -> (speaker, text code, emotion, version), or None if not named so."""
    m = NAME_RE.match(name)
    return m.groups() if m else None


def list_recordings(wav_dir):
    """{utt: (path, speaker, text code, emotion)} of the recordings in wav_dir."""
    found = {}
    for path in sorted(wav_dir.iterdir()):
        fields = parse_name(path.name) if path.is_file() else None
        if fields is None:
            log.warning("emodb: ignoring %s: not named like 03a01Fa.wav", path)
            continue
        speaker, text, emo, _ = fields
        for value, table, what in ((speaker, GENDERS, "speaker"), (text, TEXTS, "text code"),
                                   (emo, EMOTIONS, "emotion letter")):
            if value not in table:
                raise SpeechkitError(f"{path}: {what} {value} is not one of "
                                     f"{' '.join(table)}; is this an EmoDB recording?")
        found[path.stem] = (path, speaker, text, EMOTIONS[emo])
    if not found:
        raise SpeechkitError(f"{wav_dir}: no recordings named like 03a01Fa.wav; is EmoDB's "
                             f"download.zip unpacked there?")
    return found


def datadir_tables(found, data_root):
    utts = sorted(found)
    wav_scp, utt2dur = emotion.audio_tables({u: found[u][0] for u in utts}, data_root)
    speakers = sorted({found[u][1] for u in utts})
    return {
        "wav.scp": wav_scp,
        "text": {u: TEXTS[found[u][2]] for u in utts},
        "utt2spk": {u: found[u][1] for u in utts},
        "utt2dur": utt2dur,
        "utt2emo": {u: found[u][3] for u in utts},
        "spk2gender": {s: GENDERS[s] for s in speakers},
    }


@register("emodb")
def prepare(src, data_root, folds=emotion.FOLDS, seed=emotion.SEED,
            dev_share=emotion.DEV_SHARE):
    """Write all/ and fold<i>/{train,dev,test} under data_root -> {dir: utterances}."""
    found = list_recordings(find_wav_dir(src))
    if len(found) != NUM_FILES:
        log.warning("emodb: %d recordings; the full corpus has %d", len(found), NUM_FILES)
    return emotion.write_emotion_dirs(datadir_tables(found, data_root), data_root, folds, seed,
                                      dev_share)

"""Data dirs from Kaldi's yesno corpus (openslr resource 1): waves_yesno/*.wav -> data/{train,dev,test}.

The corpus is 60 recordings of one male speaker saying eight Hebrew words, each "yes" or "no".
There is no transcript file: the name is the transcript, one digit per word, 1 = yes, 0 = no
(`0_1_0_0_1_0_1_1.wav` is "no yes no no yes no yes yes"). The texts are written in lower case,
as the ASR recipe's character tokens are. Files are 8 kHz, 16-bit mono.

Layout expected in SRC (what `local/download_and_untar.sh yesno SRC` leaves):

  SRC/waves_yesno/0_0_0_0_1_1_1_1.wav ...    (SRC may also be the waves_yesno dir itself)

Anything else there (the tarball's README, stray files such as .DS_Store) is skipped with a
warning.

Splits. There is a single speaker, so no split can be speaker-disjoint: dev and test measure
recognition of unseen recordings of the training speaker, not of unseen speakers.
Kaldi's egs/yesno/s5 (local/prepare_data.sh + local/create_yesno_waves_test_train.pl) lists the
directory sorted (`ls -1`) and puts the first half of the listing in train, the rest in test.
The listing also holds non-wav entries (the README) that sort after the wavs, so in practice
Kaldi trains on the 31 recordings whose names start with 0 and tests on the 29 that start with 1
(its runs report "%WER 0.00 [ 0 / 232 ...]", 29 x 8 words, after split_data.sh warns of 31
utt2spk lines for 29 feature rows). We use that rule directly, so stray files cannot move it:

  test   names starting with 1_                                   (29 in the real corpus)
  dev    every 6th name starting with 0_, in C order (6th, 12th, ...)   (5)
  train  the other names starting with 0_                         (26)

Ids. The speaker is `yesno`; utterance ids are `yesno-<name without .wav>` (the validator wants
the speaker id as a prefix of the utterance id).

Audio. The recipe's features are configured for 16 kHz, so wav.scp resamples on the fly with a
pipe through our own resampler (no sox needed):

  yesno-0_0_0_0_1_1_1_1 speechkit resample --rate 16000 /abs/waves_yesno/0_0_0_0_1_1_1_1.wav - |

utt2dur holds each recording's duration in seconds.
"""
import logging
import re
import shlex
from pathlib import Path

import soundfile as sf

from speechkit.corpus.registry import register
from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError

log = logging.getLogger(__name__)

WAVES_DIR = "waves_yesno"
SPEAKER = "yesno"
WORDS = {"0": "no", "1": "yes"}
NAME_RE = re.compile(r"^[01](?:_[01])*\.wav$")
DEV_EVERY = 6
SAMPLE_RATE = 16000
SPLITS = ("train", "dev", "test")


def find_waves_dir(src):
    """SRC/waves_yesno, or SRC itself when it already is that directory."""
    src = Path(src)
    if (src / WAVES_DIR).is_dir():
        return src / WAVES_DIR
    if src.is_dir() and any(NAME_RE.match(p.name) for p in src.iterdir()):
        return src
    raise SpeechkitError(f"{src}: no {WAVES_DIR}/ directory with yesno recordings; download and "
                         f"unpack it with `local/download_and_untar.sh yesno {src}`")


def list_recordings(waves_dir):
    """Sorted (C order) names of the yesno recordings in `waves_dir`; other entries are skipped."""
    names = []
    for path in sorted(Path(waves_dir).iterdir()):
        if path.is_file() and NAME_RE.match(path.name):
            names.append(path.name)
        else:
            log.warning("yesno: ignoring %s: not a recording named like 0_1_0_0_1_0_1_1.wav", path)
    if not names:
        raise SpeechkitError(f"{waves_dir}: no recordings named like 0_1_0_0_1_0_1_1.wav; is the "
                             f"corpus unpacked there? (`local/download_and_untar.sh yesno DIR`)")
    return names


def split_names(names):
    """{split: [names]}: names starting with 1 -> test; every DEV_EVERY-th other one -> dev."""
    test = [n for n in names if n.startswith("1")]
    rest = sorted(n for n in names if n.startswith("0"))
    dev = [n for i, n in enumerate(rest) if i % DEV_EVERY == DEV_EVERY - 1]
    train = [n for i, n in enumerate(rest) if i % DEV_EVERY != DEV_EVERY - 1]
    return {"train": train, "dev": dev, "test": sorted(test)}


def utt_id(name):
    return f"{SPEAKER}-{name[:-len('.wav')]}"


def transcript(name):
    """'0_1_1.wav' -> 'no yes yes'."""
    return " ".join(WORDS[d] for d in name[:-len(".wav")].split("_"))


def wav_entry(path, rate, sample_rate):
    """The wav.scp value: the path, or a resampling pipe when the rate differs."""
    if rate == sample_rate:
        return str(path)
    return f"speechkit resample --rate {sample_rate} {shlex.quote(str(path))} - |"


def _info(path):
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise SpeechkitError(f"{path}: cannot read audio header: {e}") from None


def datadir_tables(waves_dir, names, sample_rate):
    tables = {"wav.scp": {}, "text": {}, "utt2spk": {}, "utt2dur": {}}
    for name in names:
        path = (waves_dir / name).resolve()
        info = _info(path)
        utt = utt_id(name)
        tables["wav.scp"][utt] = wav_entry(path, info.samplerate, sample_rate)
        tables["text"][utt] = transcript(name)
        tables["utt2spk"][utt] = SPEAKER
        tables["utt2dur"][utt] = f"{info.frames / info.samplerate:.4f}"
    return tables


@register("yesno")
def prepare(src, data_root, sample_rate=SAMPLE_RATE):
    """Write data dirs train/dev/test under `data_root` -> {split: number of utterances}."""
    waves_dir = find_waves_dir(src)
    names = list_recordings(waves_dir)
    if len(names) != 60:
        log.warning("yesno: %d recordings in %s; the full corpus has 60", len(names), waves_dir)
    splits = split_names(names)
    for split, part in splits.items():
        if not part:
            raise SpeechkitError(f"{waves_dir}: no recording for split '{split}' (test: names "
                                 f"starting with 1_, dev: every {DEV_EVERY}th name starting with "
                                 f"0_); is the corpus complete? (60 recordings)")
    counts = {}
    for split, part in splits.items():
        dest = Path(data_root) / split
        tables = datadir_tables(waves_dir, part, sample_rate)
        DataDir(dest, tables).write(dest, replace=True)
        counts[split] = len(part)
    return counts

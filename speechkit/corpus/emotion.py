"""Emotion corpora as data dirs: one dir of everything, and speaker-independent folds.

Every emotion preparer (embedded_emotion here, ravdess, emodb) writes

    DATA_ROOT/all/                     wav.scp text utt2spk spk2utt utt2dur utt2emo (+ extras)
    DATA_ROOT/fold<i>/{train,dev,test} for i = 1..folds, subsets of all/

`utt2emo` holds the label, one word from one vocabulary for every corpus (neutral calm happy
sad angry fearful disgusted surprised bored; the embedded corpus's style names are these words).
The folds are speechkit.data.folds.speaker_folds: every speaker is tested in exactly one fold,
each fold's dev speakers (for early stopping) come from its training side, and no speaker is in
two of train/dev/test of a fold. Options (`speechkit prepare-corpus --opt NAME=VALUE`):
folds=4, seed=0 (the shuffle of the speakers), dev_share=0.2 (the share of a fold's training
speakers that validate). fold<j> dirs of an earlier run with more folds are removed.

embedded_emotion reads a corpus made by

    speechkit synth-corpus --profile sentences --styles neutral,happy,sad,angry \\
        --dev-speakers 0 --test-speakers 0 SRC

The synthesiser's own train/dev/test split is ignored: the folds run over all of its speakers
(that is the evaluation the emotion literature reports, and it tests every speaker once rather
than a fixed few), so --dev-speakers/--test-speakers only change which speakers get which voice.
The label is the style column.

Audio of the real corpora. wav.scp holds the file path when the file is mono at 16 kHz, a
resampling pipe (`speechkit resample --rate 16000 /abs/x.wav - |`) when it is mono at another
rate, and, for the rare multi-channel file, a mono 16 kHz copy (channels averaged) rendered to
DATA_ROOT/wav/all/<utt>.wav, since the loaders refuse more than one channel.
"""
import logging
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from speechkit.corpus.manifest import read_manifest
from speechkit.corpus.registry import register
from speechkit.corpus.yesno import wav_entry
from speechkit.data.datadir import DataDir
from speechkit.data.folds import write_fold_dirs
from speechkit.errors import SpeechkitError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
ALL = "all"
WAV_DIR = "wav"
FOLDS = 4
SEED = 0
DEV_SHARE = 0.2
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgusted", "surprised",
            "bored")


def write_emotion_dirs(tables, data_root, folds=FOLDS, seed=SEED, dev_share=DEV_SHARE):
    """Write DATA_ROOT/all from `tables` ({name: {key: value}}) and its folds.

    -> {"all": utterances, "fold1/train": utterances, ...}.
    """
    unknown = sorted(set(tables["utt2emo"].values()) - set(EMOTIONS))
    if unknown:
        raise ValueError(f"labels {unknown} are not in speechkit.corpus.emotion.EMOTIONS")
    if len(set(tables["utt2emo"].values())) < 2:
        raise SpeechkitError(f"only one emotion ({next(iter(tables['utt2emo'].values()))}) in "
                             f"the corpus; emotion recognition needs at least two")
    dest = Path(data_root) / ALL
    data = DataDir(dest, tables)
    data.write(dest, replace=True)
    counts = {ALL: len(tables["utt2spk"])}
    counts.update(write_fold_dirs(data, data_root, folds, seed, dev_share))
    return counts


# ---- audio of the real corpora ----

def audio_info(path):
    """soundfile's header info, or a SpeechkitError naming the file."""
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise SpeechkitError(f"{path}: cannot read audio header: {e}; is the file complete? "
                             f"(unpack the corpus again)") from None


def _render_mono(path, dest, sample_rate):
    """Average the channels, resample, write 16-bit PCM: for files the loaders refuse."""
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ")
    dest.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(dest), np.clip(mono, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")


def audio_tables(paths, data_root, sample_rate=SAMPLE_RATE):
    """{utt: path} -> (wav.scp, utt2dur) tables, rendering multi-channel files (see above)."""
    wav_scp, utt2dur = {}, {}
    rendered = Path(data_root) / WAV_DIR / ALL
    shutil.rmtree(rendered, ignore_errors=True)
    for utt, path in paths.items():
        path = Path(path).resolve()
        info = audio_info(path)
        if info.channels == 1:
            wav_scp[utt] = wav_entry(path, info.samplerate, sample_rate)
        else:
            log.warning("%s: %d channels; writing a mono %d Hz copy to %s", path, info.channels,
                        sample_rate, rendered)
            wav_scp[utt] = str((rendered / f"{utt}.wav").resolve())
            _render_mono(path, rendered / f"{utt}.wav", sample_rate)
        utt2dur[utt] = f"{info.frames / info.samplerate:.4f}"
    return wav_scp, utt2dur


# ---- the embedded corpus ----

def embedded_tables(rows):
    return {
        "wav.scp": {r["utt"]: r["path"] for r in rows},
        "text": {r["utt"]: r["text"] for r in rows},
        "utt2spk": {r["utt"]: r["speaker"] for r in rows},
        "utt2dur": {r["utt"]: f"{r['duration']:.4f}" for r in rows},
        "utt2emo": {r["utt"]: r["style"] for r in rows},
    }


@register("embedded_emotion")
def prepare(src, data_root, folds=FOLDS, seed=SEED, dev_share=DEV_SHARE):
    """Write all/ and fold<i>/{train,dev,test} from a synthesised corpus -> {dir: utterances}."""
    manifest = Path(src) / "manifest.tsv"
    rows = read_manifest(manifest, absolute_paths=True)
    if not rows:
        raise SpeechkitError(f"{manifest}: no utterances; run `speechkit synth-corpus` again")
    styles = sorted({r["style"] for r in rows})
    if len(styles) < 2:
        raise SpeechkitError(f"{manifest}: every utterance has the style '{styles[0]}'; "
                             f"synthesise with e.g. `speechkit synth-corpus --profile sentences "
                             f"--styles neutral,happy,sad,angry {src}`")
    speakers = {r["speaker"] for r in rows}
    if len(speakers) < folds:
        raise SpeechkitError(f"{manifest}: {len(speakers)} speakers for folds={folds}; "
                             f"synthesise more (--num-speakers) or use --opt folds="
                             f"{len(speakers)}")
    return write_emotion_dirs(embedded_tables(rows), data_root, folds, seed, dev_share)

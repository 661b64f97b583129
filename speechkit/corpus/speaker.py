"""Speaker-recognition data dirs from the embedded corpus (`synth-corpus --profile sentences`).

    speechkit synth-corpus --profile sentences --num-speakers 104 --dev-speakers 4 \\
        --test-speakers 40 --utts-per-speaker 20 corpus/sentences
    speechkit prepare-corpus embedded_speaker corpus/sentences data/ [--opt num_trials=4000]

A speaker of the embedded corpus is an eSpeak voice variant x an English accent x its own
pitch, pitch-range and rate offsets (speechkit.corpus.synth.make_speakers). Sets written under
DATA_ROOT, with speakers disjoint between them:

    train        every other speaker (the network's classes)
    dev          dev_speakers (4) unseen speakers, with dev/trials: for choosing thresholds
    test         test_speakers (40, the size of the original's TIMIT clustering protocol)
                 unseen speakers, with test/trials

Speakers are taken in id order: the last test_speakers ids are test, the dev_speakers before
them dev, the rest train. synth-corpus numbers train speakers first, then dev, then test, so
when it was run with the same counts this is exactly the manifest's own split; otherwise the
manifest's split column is overruled (logged), as speaker recognition needs its own counts.

Trials (speechkit.data.trials): num_trials (2000) balanced target / non-target pairs per set,
drawn from seed (0), in Kaldi's format `<utt1> <utt2> target|nontarget`; a set too small for
that many gets the most it can hold (logged). Tables are the embedded corpus's own (wav.scp with
absolute paths, text, utt2spk, spk2utt, utt2dur, utt2style).

Unseen means an unseen (variant, accent, offsets) combination. The corpus has 104 variants, used
once each before any is reused with another accent: with more than 104 speakers some dev/test
speakers share a variant with a train speaker (a warning says how many).

Shared with the real speaker corpora (mini_librispeech, voxceleb1, timit): write_set(),
write_made_trials(), pick_speakers() and audio_entry().
"""
import logging
import random
import shlex
from pathlib import Path

import soundfile as sf

from speechkit.corpus.embedded import datadir_tables
from speechkit.corpus.manifest import read_manifest
from speechkit.corpus.registry import register
from speechkit.data import trials as trial_lists
from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError

log = logging.getLogger(__name__)

TRIALS = "trials"
DEV_SPEAKERS = 4
TEST_SPEAKERS = 40
NUM_TRIALS = 2000
SEED = 0
SAMPLE_RATE = 16000


def audio_entry(path, sample_rate=SAMPLE_RATE):
    """(wav.scp value, duration in s) of an audio file soundfile reads (wav, flac, NIST
    SPHERE): its absolute path, or a resampling pipe when it is not at sample_rate."""
    path = Path(path).resolve()
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise SpeechkitError(f"{path}: cannot read audio header "
                             f"({getattr(e, 'error_string', e)}); is the file complete?") from None
    value = str(path) if info.samplerate == sample_rate else \
        f"speechkit resample --rate {sample_rate} {shlex.quote(str(path))} - |"
    return value, info.frames / info.samplerate


def write_set(data_root, name, tables):
    """Write one data dir (replacing an earlier one, its trials included) -> utterance count."""
    dest = Path(data_root) / name
    DataDir(dest, tables).write(dest, replace=True)
    (dest / TRIALS).unlink(missing_ok=True)
    return len(tables["utt2spk"])


def write_made_trials(data_root, name, utt2spk, num_trials, seed):
    """Draw and write DATA_ROOT/name/trials (capped at what the set holds) -> number of trials."""
    if num_trials < 2:
        raise SpeechkitError(f"num_trials must be >= 2 (one target, one non-target), "
                             f"not {num_trials}")
    where_ = Path(data_root) / name
    targets, nontargets = trial_lists.capacity(utt2spk)
    if nontargets == 0:
        raise SpeechkitError(f"{where_}: a single speaker, so no non-target trials; give this "
                             f"set at least 2 speakers")
    if targets == 0:
        raise SpeechkitError(f"{where_}: no target trials: every speaker has a single "
                             f"utterance; give each speaker at least 2")
    most = trial_lists.max_trials(utt2spk)
    if num_trials > most:
        log.info("%s: %d trials, the most a balanced list of its %d utterances holds "
                 "(num_trials=%d)", name, most, len(utt2spk), num_trials)
    trials = trial_lists.make_trials(utt2spk, min(num_trials, most), seed)
    trial_lists.write_trials(Path(data_root) / name / TRIALS, trials)
    return len(trials)


def pick_speakers(speakers, n, seed, purpose):
    """n of `speakers` drawn by (seed, purpose), returned in sorted order."""
    speakers = sorted(speakers)
    rng = random.Random(f"speechkit-speakers/{seed}/{purpose}")
    chosen = set(trial_lists.sample_indices(rng, len(speakers), n))
    return [s for i, s in enumerate(speakers) if i in chosen]


def split_speakers(speakers, dev_speakers, test_speakers):
    """{split: speakers}: the last test_speakers ids test, the dev_speakers before them dev."""
    speakers = sorted(speakers)
    if dev_speakers < 2 or test_speakers < 2:
        raise SpeechkitError(f"dev_speakers and test_speakers must be >= 2, as their trials need "
                             f"two speakers (got {dev_speakers}, {test_speakers})")
    if dev_speakers + test_speakers >= len(speakers):
        raise SpeechkitError(f"dev_speakers={dev_speakers} + test_speakers={test_speakers} leave "
                             f"no training speaker of the corpus's {len(speakers)}; synthesise "
                             f"more (synth-corpus --num-speakers) or lower them")
    n_train = len(speakers) - dev_speakers - test_speakers
    return {"train": speakers[:n_train], "dev": speakers[n_train:n_train + dev_speakers],
            "test": speakers[n_train + dev_speakers:]}


def _report_split(rows, splits):
    """Log where the split departs from the manifest's, and variants shared with train."""
    spk_split = {spk: split for split, spks in splits.items() for spk in spks}
    moved = {r["speaker"] for r in rows if r["split"] != spk_split[r["speaker"]]}
    if moved:
        log.info("embedded_speaker: %d speakers change split from the manifest's (options "
                 "dev_speakers, test_speakers set the counts)", len(moved))
    variant = {r["speaker"]: r["voice"] for r in rows}
    train_variants = {variant[s] for s in splits["train"]}
    shared = [s for s in splits["dev"] + splits["test"] if variant[s] in train_variants]
    if shared:
        log.warning("embedded_speaker: %d dev/test speakers share their eSpeak voice variant "
                    "with a train speaker (another accent and offsets); synthesise at most 104 "
                    "speakers for variant-disjoint splits", len(shared))


@register("embedded_speaker")
def prepare(src, data_root, dev_speakers=DEV_SPEAKERS, test_speakers=TEST_SPEAKERS,
            num_trials=NUM_TRIALS, seed=SEED):
    """Write train, dev (+trials), test (+trials) -> {set: number of utterances}."""
    rows = read_manifest(Path(src) / "manifest.tsv", absolute_paths=True)
    if not rows:
        raise SpeechkitError(f"{src}/manifest.tsv: no utterances; rerun synth-corpus")
    splits = split_speakers({r["speaker"] for r in rows}, dev_speakers, test_speakers)
    _report_split(rows, splits)
    counts = {}
    for name, speakers in splits.items():
        keep = set(speakers)
        tables = datadir_tables([r for r in rows if r["speaker"] in keep])
        counts[name] = write_set(data_root, name, tables)
        if name != "train":
            write_made_trials(data_root, name, tables["utt2spk"], num_trials, seed)
    return counts

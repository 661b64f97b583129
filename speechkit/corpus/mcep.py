"""Mel-cepstrum data dirs from the embedded corpus: reconstruction and voice-conversion tests.

    speechkit synth-corpus --profile sentences --parallel-texts 4 --num-speakers 34 \\
        --dev-speakers 2 --test-speakers 4 --utts-per-speaker 14 corpus/embedded
    speechkit prepare-corpus embedded_mcep corpus/embedded data/ [--opt vc_speakers=4]

`--parallel-texts N` makes every voice read the same N sentences besides its own. Sets written
under DATA_ROOT:

    train    the manifest's train speakers, without the shared sentences (so no voice is heard
             reading a conversion test sentence in training; training never sees pairs) and
             without dev_seen
    dev      the dev speakers (unseen in training), all their utterances
    dev_seen the last dev_seen_utts (1) own-text utterances of every train speaker: the dev set
             of a speaker-conditioned model, which knows only the training speakers
    test     the test speakers (unseen in training), all their utterances: reconstruction
    test_vc  vc_speakers (4) train voices, picked by seed, reading the shared sentences, with
             test_vc/pairs: `<source utt> <target utt>` for every ordered pair of two of those
             voices reading the same sentence (the target's own rendering is the reference)

Tables are the embedded corpus's own (wav.scp with absolute paths, text, utt2spk, spk2utt,
utt2dur, utt2style).
"""
import itertools
from pathlib import Path

from speechkit.corpus.embedded import datadir_tables
from speechkit.corpus.manifest import read_manifest
from speechkit.corpus.registry import register
from speechkit.corpus.speaker import pick_speakers
from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError
from speechkit.io.atomic import atomic_write_text

PAIRS = "pairs"
VC_SPEAKERS = 4
# Files of the feature stage (local/make_mcep.sh) that a rewritten data dir must not keep.
FEATURE_EXTRAS = ("lf0.scp", "bap.scp", "cmvn_global.ark", "gv.ark", "spk2lf0", PAIRS)


def write_set(data_root, name, tables, pairs=None):
    """Write one data dir, replacing an earlier one and its feature extras -> utterance count."""
    dest = Path(data_root) / name
    if not tables["utt2spk"]:
        raise SpeechkitError(f"{dest}: no utterance for this set; check the corpus options")
    DataDir(dest, tables).write(dest, replace=True)
    for extra in FEATURE_EXTRAS:
        (dest / extra).unlink(missing_ok=True)
    if pairs is not None:  # like Kaldi's trials: a source appears once per target
        atomic_write_text(dest / PAIRS, "".join(f"{a} {b}\n" for a, b in pairs))
    return len(tables["utt2spk"])


def parallel_pairs(utt2spk, utt2text):
    """[(source utt, target utt)]: every ordered pair of utterances of different speakers with
    the same text, sorted."""
    by_text = {}
    for utt, text in utt2text.items():
        by_text.setdefault(text, []).append(utt)
    pairs = [(a, b) for utts in by_text.values() for a, b in itertools.permutations(sorted(utts), 2)
             if utt2spk[a] != utt2spk[b]]
    return sorted(pairs)


def shared_texts(rows, speakers):
    """Texts read by every one of `speakers`."""
    read = [{r["text"] for r in rows if r["speaker"] == s} for s in speakers]
    return set.intersection(*read) if read else set()


def held_out(rows, per_speaker):
    """Ids of the last `per_speaker` utterances of each speaker (every speaker keeps one)."""
    by_spk = {}
    for r in sorted(rows, key=lambda r: r["utt"]):
        by_spk.setdefault(r["speaker"], []).append(r["utt"])
    if per_speaker < 1:
        raise SpeechkitError(f"dev_seen_utts must be >= 1, not {per_speaker}")
    return {u for utts in by_spk.values() for u in utts[1:][-per_speaker:]}


def _split_rows(rows, split):
    part = [r for r in rows if r["split"] == split]
    if not part:
        raise SpeechkitError(f"manifest: no utterance in split '{split}'; synthesise with "
                             f"--{split}-speakers >= 1")
    return part


@register("embedded_mcep")
def prepare(src, data_root, vc_speakers=VC_SPEAKERS, dev_seen_utts=1, seed=0):
    """Write train, dev, dev_seen, test and test_vc (+pairs) -> {set: number of utterances}."""
    rows = read_manifest(Path(src) / "manifest.tsv", absolute_paths=True)
    train = _split_rows(rows, "train")
    train_speakers = sorted({r["speaker"] for r in train})
    if not 2 <= vc_speakers <= len(train_speakers):
        raise SpeechkitError(f"vc_speakers={vc_speakers}: need 2..{len(train_speakers)} (the "
                             f"corpus's train speakers)")
    voices = pick_speakers(train_speakers, vc_speakers, seed, "mcep-vc")
    texts = shared_texts(train, voices)
    if not texts:
        raise SpeechkitError(f"{src}/manifest.tsv: no sentence is read by all {vc_speakers} "
                             f"conversion voices; synthesise the corpus with --parallel-texts N")
    vc_rows = [r for r in train if r["speaker"] in voices and r["text"] in texts]
    vc_tables = datadir_tables(vc_rows)
    own = [r for r in train if r["text"] not in texts]
    seen = held_out(own, dev_seen_utts)
    sets = {"train": (datadir_tables([r for r in own if r["utt"] not in seen]), None),
            "dev": (datadir_tables(_split_rows(rows, "dev")), None),
            "dev_seen": (datadir_tables([r for r in own if r["utt"] in seen]), None),
            "test": (datadir_tables(_split_rows(rows, "test")), None),
            "test_vc": (vc_tables, parallel_pairs(vc_tables["utt2spk"], vc_tables["text"]))}
    return {name: write_set(data_root, name, tables, pairs)
            for name, (tables, pairs) in sets.items()}

"""Data dirs from the embedded corpus: manifest.tsv -> data/{train,dev,test}.

Besides the Kaldi tables (wav.scp with absolute paths, text, utt2spk, spk2utt, utt2dur) each
dir gets `utt2style` (the prosody style), which the emotion recipe uses as its label.
"""
from pathlib import Path

from speechkit.corpus.manifest import read_manifest
from speechkit.corpus.registry import register
from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError

SPLITS = ("train", "dev", "test")


def datadir_tables(rows):
    return {
        "wav.scp": {r["utt"]: r["path"] for r in rows},
        "text": {r["utt"]: r["text"] for r in rows},
        "utt2spk": {r["utt"]: r["speaker"] for r in rows},
        "utt2dur": {r["utt"]: f"{r['duration']:.4f}" for r in rows},
        "utt2style": {r["utt"]: r["style"] for r in rows},
    }


@register("embedded")
def prepare(src, data_root):
    """Write one data dir per split of the manifest in `src`. -> {split: number of utterances}."""
    rows = read_manifest(Path(src) / "manifest.tsv", absolute_paths=True)
    counts = {}
    for split in SPLITS:
        part = [r for r in rows if r["split"] == split]
        if not part:
            raise SpeechkitError(f"{src}/manifest.tsv: no utterance in split '{split}'; "
                                 f"generate more speakers")
        dest = Path(data_root) / split
        DataDir(dest, datadir_tables(part)).write(dest, replace=True)
        counts[split] = len(part)
    return counts

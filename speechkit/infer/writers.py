"""Where inference results go, one writer per kind of result, all used the same way:

    with open_writer(kind, target) as w:
        w.write(key, result)

- 'text': `key result` lines (a Kaldi text table) to a file, or stdout when target is None/'-'.
- 'wav': `<dir>/<key>.wav` files plus `<dir>/wav.scp` listing them (a data dir's audio).
- 'matrix': a Kaldi wspecifier (`ark,scp:a.ark,a.scp`, `ark,t:-`): vectors are 1 x D rows.

File outputs are committed when the block ends without error, so an interrupted run never
leaves a table that looks complete.
"""
import sys
from pathlib import Path

import numpy as np

from speechkit.errors import SpeechkitError
from speechkit.io import MatrixWriter, atomic_write_text, write_wav


class TextWriter:
    def __init__(self, target=None):
        self.path = None if target in (None, "-") else Path(target)
        self.lines = []

    def write(self, key, result):
        line = f"{key} {result}\n"
        if self.path is None:
            sys.stdout.write(line)
            sys.stdout.flush()
        else:
            self.lines.append(line)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None and self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, "".join(sorted(self.lines)))


class WavWriter:
    def __init__(self, target, sample_rate):
        if target in (None, "-"):
            raise SpeechkitError("wav output needs a directory: pass -o/--out DIR (or FILE.wav "
                                 "for one input)")
        self.dir, self.rate, self.entries = Path(target), sample_rate, {}
        self.dir.mkdir(parents=True, exist_ok=True)

    def write(self, key, wav):
        path = (self.dir / f"{key}.wav").resolve()
        write_wav(path, np.asarray(wav, np.float32), self.rate)
        self.entries[key] = path

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            atomic_write_text(self.dir / "wav.scp",
                              "".join(f"{k} {v}\n" for k, v in sorted(self.entries.items())))


class VectorWriter(MatrixWriter):
    """Matrices as they are; 1-d results (embeddings) as 1 x D rows."""

    def write(self, key, mat):
        mat = np.asarray(mat)
        super().write(key, mat[None, :] if mat.ndim == 1 else mat)


def open_writer(kind, target=None, sample_rate=16000):
    if kind == "text":
        return TextWriter(target)
    if kind == "wav":
        return WavWriter(target, sample_rate)
    if kind == "matrix":
        return VectorWriter(target or "ark,t:-")
    raise ValueError(f"unknown writer kind {kind}")

"""Kaldi matrices in ark/scp files, addressed by rspecifiers and wspecifiers.

Readers:  `scp:feats.scp`, `ark:feats.ark`, `ark:-` (stdin), with Kaldi's ignorable flags
          (`ark,s,cs:`), binary or text arks (kaldiio detects which).
Writers:  `ark:x.ark`, `ark:-` (stdout), `ark,t:x.txt`, `ark,scp:x.ark,x.scp`.

A file writer writes to temporary names and renames the ark, then the scp, only when closed
without error: an scp never points into a partial ark, and an interrupted job leaves the
previous outputs as they were.
"""
import os
import sys
from pathlib import Path

import kaldiio
import numpy as np

from speechkit.errors import SpeechkitError
from speechkit.io.table import atomic_write_text

_READ_FLAGS = {"s", "cs", "ns", "ncs", "o", "no", "p", "np", "b", "t"}
_WRITE_FLAGS = {"b", "t", "f", "nf", "p", "o"}


def _split(spec, kind):
    if ":" not in spec:
        raise SpeechkitError(f"bad {kind} '{spec}': expected e.g. scp:feats.scp, ark:-, "
                             f"ark,scp:x.ark,x.scp")
    head, target = spec.split(":", 1)
    flags = head.split(",")
    return flags, target


def parse_rspecifier(spec):
    """'scp:a.scp' -> ('scp', 'a.scp'); 'ark,s,cs:-' -> ('ark', '-')."""
    flags, target = _split(spec, "rspecifier")
    kinds = [f for f in flags if f in ("ark", "scp")]
    unknown = [f for f in flags if f not in ("ark", "scp") and f not in _READ_FLAGS]
    if len(kinds) != 1 or unknown or not target:
        raise SpeechkitError(f"bad rspecifier '{spec}': use scp:FILE, ark:FILE or ark:-")
    return kinds[0], target


def parse_wspecifier(spec):
    """'ark,scp:a.ark,a.scp' -> {'ark': 'a.ark', 'scp': 'a.scp', 'text': False}."""
    flags, target = _split(spec, "wspecifier")
    kinds = [f for f in flags if f in ("ark", "scp")]
    unknown = [f for f in flags if f not in ("ark", "scp") and f not in _WRITE_FLAGS]
    if "ark" not in kinds or unknown or not target:
        raise SpeechkitError(f"bad wspecifier '{spec}': use ark:FILE, ark:-, ark,t:FILE or "
                             f"ark,scp:FILE.ark,FILE.scp")
    out = {"text": "t" in flags, "scp": None}
    if "scp" in kinds:
        parts = target.split(",")
        if len(parts) != 2 or "-" in parts:
            raise SpeechkitError(f"bad wspecifier '{spec}': ark,scp needs two file names, "
                                 f"ark,scp:FILE.ark,FILE.scp")
        out["ark"], out["scp"] = parts
    else:
        out["ark"] = target
    return out


def _check_exists(path, spec):
    if not Path(path).is_file():
        raise SpeechkitError(f"{spec}: {path} does not exist")


def read_matrices(rspecifier, dtype=np.float32):
    """Yield (key, matrix) in order from an rspecifier, as `dtype` (float64 for CMVN stats)."""
    kind, target = parse_rspecifier(rspecifier)
    if target == "-":
        if kind == "scp":
            source = kaldiio.load_scp_sequential(sys.stdin)
        else:
            source = kaldiio.load_ark(sys.stdin.buffer)
    else:
        _check_exists(target, rspecifier)
        source = (kaldiio.load_scp_sequential(target) if kind == "scp"
                  else kaldiio.load_ark(target))
    try:
        for key, mat in source:
            yield key, np.asarray(mat, dtype=dtype)
    except (OSError, ValueError, EOFError) as e:
        raise SpeechkitError(f"{rspecifier}: cannot read: {e}") from None


def load_scp(path):
    """Random access {key: matrix loaded on demand} over an scp file."""
    _check_exists(path, path)
    return kaldiio.load_scp(str(path))


def read_matrix_dict(rspecifier, dtype=np.float32):
    return dict(read_matrices(rspecifier, dtype))


class MatrixWriter:
    """Write matrices to a wspecifier; use as a context manager so it commits on success only.

    Matrices are written as `dtype`: float32 for features, float64 for Kaldi's CMVN stats.
    """

    def __init__(self, wspecifier, dtype=np.float32):
        self.spec = parse_wspecifier(wspecifier)
        self.dtype = dtype
        self.text = self.spec["text"]
        self.ark, self.scp = self.spec["ark"], self.spec["scp"]
        self.scp_lines = []
        if self.ark == "-":
            self.fd, self.tmp = sys.stdout.buffer, None
        else:
            Path(self.ark).parent.mkdir(parents=True, exist_ok=True)
            self.tmp = f"{self.ark}.tmp{os.getpid()}"
            self.fd = open(self.tmp, "wb")

    def write(self, key, mat):
        if not key or any(c.isspace() for c in key):
            raise SpeechkitError(f"bad key '{key}': keys are non-empty and have no spaces")
        start = self.fd.tell() if self.scp else 0
        kaldiio.save_ark(self.fd, {key: np.asarray(mat, dtype=self.dtype)}, text=self.text)
        if self.scp:
            # The scp offset points just past "key ", where the matrix header begins.
            self.scp_lines.append(f"{key} {self.ark}:{start + len(key.encode()) + 1}\n")

    def __setitem__(self, key, mat):
        self.write(key, mat)

    def commit(self):
        self.fd.flush()
        if self.tmp is None:
            return
        self.fd.close()
        if self.scp:
            # Drop the old scp first: between the two renames no scp may point at the new ark.
            Path(self.scp).unlink(missing_ok=True)
        os.replace(self.tmp, self.ark)
        if self.scp:
            atomic_write_text(self.scp, "".join(self.scp_lines))

    def abort(self):
        if self.tmp is not None:
            self.fd.close()
            Path(self.tmp).unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False

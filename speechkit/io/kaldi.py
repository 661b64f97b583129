"""Kaldi matrices in ark/scp files, addressed by rspecifiers and wspecifiers.

Readers:  `scp:feats.scp`, `ark:feats.ark`, `ark:-` (stdin), with Kaldi's ignorable flags
          (`ark,s,cs:`), binary or text arks. Only Kaldi matrices and vectors are read: kaldiio
          would also unpickle a `PKL` entry, which would let a crafted ark run code.
Writers:  `ark:x.ark`, `ark:-` (stdout), `ark,t:x.txt`, `ark,scp:x.ark,x.scp`.

A file writer writes to temporary names and renames the ark, then the scp, only when closed
without error: an scp never points into a partial ark, and an interrupted job leaves the
previous outputs as they were.

A writer to stdout cannot take back what it wrote, so when it fails it ends the stream with a
record that no reader accepts (key `__speechkit_aborted__`, a text matrix that does not parse):
the speechkit command reading the pipe then fails too and commits nothing, and a Kaldi tool
fails to read it. A producer killed by a signal between two matrices leaves a stream that looks
complete; run pipelines under `set -o pipefail` to see that, as Kaldi scripts do.
"""
import io
import struct
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import kaldiio
import numpy as np
from kaldiio.compression_header import GlobalHeader
from kaldiio.matio import _parse_arkpath, read_kaldi, read_token

from speechkit.errors import SpeechkitError, where
from speechkit.io.atomic import (atomic_write_text, discard, remove_stale_temps, temp_path,
                                 write_error)
from speechkit.io.table import read_table

_READ_FLAGS = {"s", "cs", "ns", "ncs", "o", "no", "p", "np", "b", "t"}
_WRITE_FLAGS = {"b", "t", "f", "nf", "p", "o"}
ABORTED_KEY = "__speechkit_aborted__"
ABORT_RECORD = f"{ABORTED_KEY} [ the command writing this stream failed ]\n".encode()
# What kaldiio raises on a malformed or truncated entry.
_READ_ERRORS = (OSError, ValueError, EOFError, RuntimeError, struct.error, AssertionError)


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


# --- reading one entry ---------------------------------------------------------------------

def _peek(fd, n):
    """The next n bytes of fd (fewer at the end) without consuming them."""
    if fd.seekable():
        pos = fd.tell()
        data = fd.read(n)
        fd.seek(pos)
        return data
    return fd.peek(n)


class _Stream:
    """A pipe with a peek that waits for n bytes (BufferedReader.peek may return just one)."""

    def __init__(self, raw):
        self.raw, self.buf = raw, b""

    def peek(self, n):
        while len(self.buf) < n:
            chunk = self.raw.read(n - len(self.buf))
            if not chunk:
                break
            self.buf += chunk
        return self.buf[:n]

    def read(self, n=-1):
        if n is None or n < 0:
            data, self.buf = self.buf + self.raw.read(), b""
            return data
        data, self.buf = self.buf[:n], self.buf[n:]
        if len(data) < n:
            data += self.raw.read(n - len(data))
        return data

    def seekable(self):
        return False


def _check_head(head, origin):
    """Accept Kaldi binary (`\\0B`) or text (`[`) matrices only."""
    if head.startswith(b"\0B") or head.lstrip(b" \t\r\n")[:1] == b"[":
        return
    if not head:
        raise SpeechkitError(f"{origin}: the entry is empty (truncated ark?)")
    raise SpeechkitError(f"{origin}: not a Kaldi matrix (it starts with {head[:8]!r}); "
                         f"the ark is damaged or the scp offset is wrong")


def read_value(fd, origin):
    """The matrix (or vector) at fd's position, after its key."""
    _check_head(_peek(fd, 16), origin)
    try:
        return read_kaldi(fd)
    except _READ_ERRORS as e:
        raise SpeechkitError(f"{origin}: cannot read the matrix ({e or type(e).__name__}); "
                             f"the ark is truncated or damaged") from None


def binary_header(head):
    """(rows, cols, bytes) of a Kaldi binary matrix from its first bytes; None for text.

    `head` starts at the `\\0B` marker (an scp offset) and holds at least 32 bytes when the
    entry is that long. Raises SpeechkitError when it is not a Kaldi matrix header.
    """
    if head.lstrip(b" \t\r\n")[:1] == b"[":
        return None
    if not head.startswith(b"\0B"):
        raise SpeechkitError(f"not a Kaldi matrix (starts with {head[:8]!r})")
    token, _, rest = head[2:].partition(b" ")
    try:
        if token in (b"FM", b"DM"):
            rows, cols = struct.unpack("<xixi", rest[:10])
            return rows, cols, 2 + 3 + 10 + rows * cols * (4 if token == b"FM" else 8)
        if token in (b"FV", b"DV"):
            (size,) = struct.unpack("<xi", rest[:5])
            return 1, size, 2 + 3 + 5 + size * (4 if token == b"FV" else 8)
        if token in (b"CM", b"CM2", b"CM3"):
            header = GlobalHeader.read(io.BytesIO(rest[:16]), token.decode())
            rows, cols = header.rows, header.cols
            body = {b"CM": 8 * cols + rows * cols, b"CM2": 2 * rows * cols,
                    b"CM3": rows * cols}[token]
            return rows, cols, 2 + len(token) + 1 + 16 + body
    except (struct.error, RuntimeError):
        raise SpeechkitError("truncated Kaldi matrix header") from None
    raise SpeechkitError(f"unknown Kaldi matrix type {token[:8]!r}")


# --- sequential and random access ----------------------------------------------------------

def parse_scp_value(value):
    """'x.ark:12[0:9]' -> ('x.ark', 12, row slices, False); 'cmd |' -> ('cmd |', None, None, True)."""
    ark, offset, slices = _parse_arkpath(value)
    command = ark.strip()
    return ark, offset, slices, command.endswith("|") or command.startswith("|")


def _iter_ark(fd, origin):
    """(key, matrix) of an ark stream; the abort record of a failed producer is an error."""
    count = 0
    while True:
        try:
            key = read_token(fd)
        except UnicodeDecodeError:
            raise SpeechkitError(f"{origin}: not a Kaldi ark (after {count} entries the next key "
                                 f"is not text)") from None
        if key is None:
            return
        if key == ABORTED_KEY:
            raise SpeechkitError(f"{origin}: the command writing this stream failed after "
                                 f"{count} matrices (its error is above); nothing is written")
        yield key, read_value(fd, f"{origin} (key {key})")
        count += 1


class ScpReader(Mapping):
    """{key: matrix read on access} over an scp file (`key ark:offset[range]` or `key cmd |`).

    Each access opens the ark, checks that a Kaldi matrix is at the offset and reads it: no file
    stays open, so forked data-loader workers never share a file offset. items_in_order() keeps
    an ark open while consecutive entries share it.
    """

    def __init__(self, path, lines=None):
        self.path = str(path)
        pairs = lines if lines is not None else read_table(path, check_sorted=False)
        self.entries = {}
        for lineno, (key, value) in enumerate(pairs, 1):
            if not value:
                raise SpeechkitError(f"{where(self.path, lineno, key)}: no ark position; each line "
                                     f"is `<key> <file.ark>:<offset>`")
            self.entries[key] = value

    def __getitem__(self, key):
        opened = {}
        try:
            return self._load(key, opened)
        finally:
            _close(opened)

    def items_in_order(self):
        """(key, matrix) in file order, reusing the open ark of the previous entry."""
        opened = {}
        try:
            for key in self.entries:
                yield key, self._load(key, opened)
        finally:
            _close(opened)

    def _load(self, key, opened):
        value = self.entries[key]
        origin = where(self.path, key=key)
        ark, offset, slices, pipe = parse_scp_value(value)
        if pipe:
            mat = read_value(io.BytesIO(_run(ark, origin)), origin)
        else:
            fd = _open_ark(ark, origin, opened)
            try:
                fd.seek(offset or 0)
            except (OSError, ValueError) as e:
                raise SpeechkitError(f"{origin}: cannot seek to {offset} in {ark}: {e}") from None
            mat = read_value(fd, f"{origin}, {ark}:{offset}")
        return mat[slices] if slices is not None else mat

    def __iter__(self):
        return iter(self.entries)

    def __len__(self):
        return len(self.entries)

    def __contains__(self, key):
        return key in self.entries


def _open_ark(ark, origin, opened):
    """The ark open for reading; `opened` holds at most the one last opened."""
    if ark not in opened:
        _close(opened)
        try:
            opened[ark] = open(ark, "rb")
        except OSError as e:
            raise SpeechkitError(f"{origin}: cannot open {ark}: {e.strerror or e}") from None
    return opened[ark]


def _close(opened):
    for fd in opened.values():
        fd.close()
    opened.clear()


def _run(command, origin):
    proc = subprocess.run(["bash", "-c", "set -o pipefail; " + command.strip().strip("|")],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise SpeechkitError(f"{origin}: command `{command}` failed with code {proc.returncode}")
    return proc.stdout


def read_matrices(rspecifier, dtype=np.float32):
    """Yield (key, matrix) in order from an rspecifier, as `dtype` (float64 for CMVN stats)."""
    kind, target = parse_rspecifier(rspecifier)
    if target != "-":
        _check_exists(target, rspecifier)
    if kind == "scp":
        source = "-" if target == "-" else target
        scp = ScpReader(rspecifier, read_table(source, check_sorted=False))
        for key, mat in scp.items_in_order():
            yield key, np.asarray(mat, dtype=dtype)
        return
    origin = "stdin" if target == "-" else rspecifier
    try:
        fd = open(target, "rb") if target != "-" else (
            sys.stdin.buffer if sys.stdin.buffer.seekable() else _Stream(sys.stdin.buffer))
    except OSError as e:
        raise SpeechkitError(f"{rspecifier}: cannot open: {e.strerror or e}") from None
    try:
        for key, mat in _iter_ark(fd, origin):
            yield key, np.asarray(mat, dtype=dtype)
    finally:
        if target != "-":
            fd.close()


def load_scp(path):
    """Random access {key: matrix loaded on demand} over an scp file."""
    _check_exists(path, path)
    return ScpReader(path)


def read_matrix_dict(rspecifier, dtype=np.float32):
    return dict(read_matrices(rspecifier, dtype))


# --- writing -------------------------------------------------------------------------------

class MatrixWriter:
    """Write matrices to a wspecifier; use as a context manager so it commits on success only.

    Matrices are written as `dtype`: float32 for features, float64 for Kaldi's CMVN stats.
    A failed write (disk full, read-only dir) is a SpeechkitError and leaves no temporary file.
    """

    def __init__(self, wspecifier, dtype=np.float32):
        self.spec = parse_wspecifier(wspecifier)
        self.dtype = dtype
        self.text = self.spec["text"]
        self.ark, self.scp = self.spec["ark"], self.spec["scp"]
        self.scp_lines = []
        if self.ark == "-":
            self.fd, self.tmp = sys.stdout.buffer, None
            return
        self.tmp = temp_path(self.ark, hidden=False)
        try:
            for target in filter(None, (self.ark, self.scp)):
                Path(target).parent.mkdir(parents=True, exist_ok=True)
            self.fd = open(self.tmp, "wb")
        except OSError as e:
            raise write_error(self.ark, e) from None

    @property
    def _name(self):
        return "stdout" if self.tmp is None else self.ark

    def write(self, key, mat):
        if not key or any(c.isspace() for c in key):
            raise SpeechkitError(f"bad key '{key}': keys are non-empty and have no spaces")
        try:
            start = self.fd.tell() if self.scp else 0
            kaldiio.save_ark(self.fd, {key: np.asarray(mat, dtype=self.dtype)}, text=self.text)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise write_error(self._name, e) from None
        if self.scp:
            # The scp offset points just past "key ", where the matrix header begins.
            self.scp_lines.append(f"{key} {self.ark}:{start + len(key.encode()) + 1}\n")

    def __setitem__(self, key, mat):
        self.write(key, mat)

    def commit(self):
        if self.tmp is None:
            try:
                self.fd.flush()
            except BrokenPipeError:
                raise
            except OSError as e:
                raise write_error(self._name, e) from None
            return
        try:
            self.fd.close()  # flushes: a full disk shows here at the latest
            if self.scp:
                # Drop the old scp first: between the two renames no scp may point at the new ark.
                Path(self.scp).unlink(missing_ok=True)
            Path(self.tmp).replace(self.ark)
        except OSError as e:
            discard(self.tmp)
            raise write_error(self.ark, e) from None
        if self.scp:
            atomic_write_text(self.scp, "".join(self.scp_lines))
        remove_stale_temps(self.ark)

    def abort(self):
        """Nothing of this run is kept; a stream gets the record that makes its reader fail."""
        if self.tmp is not None:
            try:
                self.fd.close()
            except OSError:
                pass  # the full disk that brought us here
            discard(self.tmp)
            return
        try:
            self.fd.write(ABORT_RECORD)
            self.fd.flush()
        except OSError:
            pass  # the reader is gone or stdout is full: nothing more to tell it

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False

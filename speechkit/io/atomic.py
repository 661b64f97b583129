"""Files that appear complete or not at all: temporary names, stale leftovers, write failures.

A writer writes to a temporary name beside its target that carries its process id, then renames.
A process killed with -9, or stopped by a full disk, leaves that temporary file behind; the next
writer of the same target that succeeds removes the leftovers of processes that no longer run.
A failed write (disk full, read-only dir) is a SpeechkitError naming the file, not a traceback.
"""
import errno
import os
import re
from pathlib import Path

from speechkit.errors import SpeechkitError

_HINTS = {errno.ENOSPC: "free some space and rerun",
          errno.EDQUOT: "free some space (disk quota) and rerun",
          errno.EACCES: "make the directory writable or write elsewhere",
          errno.EPERM: "make the directory writable or write elsewhere",
          errno.EROFS: "the file system is read-only; write elsewhere"}


def write_error(path, error):
    """SpeechkitError for an OSError raised while writing `path`: what happened and what to do."""
    reason = error.strerror or str(error)
    hint = _HINTS.get(error.errno, "check the path")
    return SpeechkitError(f"cannot write {path}: {reason}; {hint}")


def temp_path(path, hidden=True):
    """Where to write `path` before renaming it: `.name.tmp<pid>` (hidden) or `name.tmp<pid>`.

    Tables use hidden names so that a leftover `utt2x.tmp123` never looks like a data-dir table.
    """
    path = Path(path)
    name = f".{path.name}" if hidden else path.name
    return path.with_name(f"{name}.tmp{os.getpid()}")


def pid_alive(pid):
    """True if a process `pid` runs on this machine (or may: it belongs to another user)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    return True


def remove_stale_temps(path):
    """Remove `name.tmp<pid>` and `.name.tmp<pid>` beside `path` whose process is gone.

    Called after a successful write of `path`; returns the paths removed.
    """
    path = Path(path)
    pattern = re.compile(r"\.?" + re.escape(path.name) + r"\.tmp(\d+)")
    removed = []
    try:
        candidates = list(path.parent.iterdir())
    except OSError:
        return removed
    for p in candidates:
        match = pattern.fullmatch(p.name)
        if match and p.is_file() and not pid_alive(int(match.group(1))):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass  # someone else's file or already gone: never fail a good write for it
    return removed


def atomic_write_bytes(path, data):
    """Write `data` to `path` through a temporary name, then remove stale temporaries."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as e:
        discard(tmp)
        raise write_error(path, e) from None
    remove_stale_temps(path)


def discard(path):
    """Remove a temporary file if it is there; never raise (it runs while handling an error)."""
    try:
        Path(path).unlink(missing_ok=True)
    except OSError:
        pass


def atomic_write_text(path, text):
    """Write to a temporary name beside `path`, then rename: readers never see half a file."""
    atomic_write_bytes(path, text.encode("utf-8"))

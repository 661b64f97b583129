"""Kaldi text tables: one `<key> <value>` per line, sorted by key in C-locale order, keys unique.

C-locale order is byte order, which is Python's order on str for the ASCII keys Kaldi allows;
comparing the UTF-8 bytes keeps it right for any key.
"""
import os
import sys
from pathlib import Path

from speechkit.errors import SpeechkitError, where


def _c_key(key):
    return key.encode("utf-8")


def parse_line(path, lineno, line):
    """'key value...' -> (key, value); value may be '' (e.g. an empty transcript)."""
    parts = line.rstrip("\n").split(maxsplit=1)
    if not parts:
        raise SpeechkitError(f"{where(path, lineno)}: empty line; remove it")
    return parts[0], (parts[1].strip() if len(parts) > 1 else "")


def read_table(path, check_sorted=True, allow_empty=False, keep_first=False):
    """Read a table (a path, or `-` for stdin) as a list of (key, value) pairs in file order.

    Unsorted tables and duplicate keys are errors naming the line, as in Kaldi, because every
    tool downstream merges tables by walking them in order. The fixer reads with
    check_sorted=False and keep_first=True (later duplicates dropped).
    """
    path, text = _read_text(path)
    pairs, seen, prev = [], set(), None
    for lineno, line in enumerate(text.splitlines(), 1):
        key, value = parse_line(path, lineno, line)
        if key in seen:
            if keep_first:
                continue
            raise SpeechkitError(f"{where(path, lineno, key)}: duplicate key; keep one line per key "
                                 f"(utils/fix_data_dir.sh keeps the first)")
        if check_sorted and prev is not None and _c_key(key) < _c_key(prev):
            raise SpeechkitError(f"{where(path, lineno, key)}: not sorted (comes after {prev}); "
                                 f"sort it with `LC_ALL=C sort -k1,1 -u {path}`")
        seen.add(key)
        prev = key
        pairs.append((key, value))
    if not pairs and not allow_empty:
        raise SpeechkitError(f"{path}: empty table")
    return pairs


def _read_text(path):
    """(name for messages, text) of a path or of stdin ('-')."""
    if str(path) == "-":
        return "<stdin>", sys.stdin.read()
    path = Path(path)
    if not path.is_file():
        raise SpeechkitError(f"{path}: no such file")
    try:
        return path, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpeechkitError(f"{path}: cannot read: {e}") from None


def table_path(spec):
    """A text table named the Kaldi way on a command line: 'ark:x', 'ark,t:x' or plain 'x' -> x.

    Kaldi tools take such tables as rspecifiers/wspecifiers; an scp cannot hold text.
    """
    spec = str(spec)
    head, sep, target = spec.partition(":")
    if sep and "ark" in head.split(","):
        return target
    if sep and "scp" in head.split(","):
        raise SpeechkitError(f"'{spec}': give this text table as ark:FILE or FILE, not scp:")
    return spec


def read_dict(path, **kwargs):
    """read_table as an insertion-ordered dict."""
    return dict(read_table(path, **kwargs))


def sort_keys(keys):
    """Keys in Kaldi's C-locale order."""
    return sorted(keys, key=_c_key)


def write_table(path, items):
    """Write {key: value} or (key, value) pairs sorted by key, atomically.

    Values that are lists are joined by spaces (spk2utt). The file appears complete or not at all.
    """
    pairs = items.items() if isinstance(items, dict) else items
    rows = {}
    for key, value in pairs:
        if key in rows:
            raise SpeechkitError(f"{path}: duplicate key {key} while writing")
        rows[key] = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    lines = [f"{k} {rows[k]}".rstrip(" ") + "\n" for k in sort_keys(rows)]
    atomic_write_text(path, "".join(lines))


def atomic_write_text(path, text):
    """Write to a temporary name beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

"""Kaldi text tables: one `<key> <value>` per line, sorted by key in C-locale order, keys unique.

C-locale order is byte order, which is Python's order on str for the ASCII keys Kaldi allows;
comparing the UTF-8 bytes keeps it right for any key.
"""
import sys
from pathlib import Path

from speechkit.errors import SpeechkitError, where
from speechkit.io.atomic import atomic_write_text

BOM = "\ufeff"


def _c_key(key):
    return key.encode("utf-8")


def parse_line(path, lineno, line):
    """'key value...' -> (key, value); value may be '' (e.g. an empty transcript)."""
    parts = line.rstrip("\n").split(maxsplit=1)
    if not parts:
        raise SpeechkitError(f"{where(path, lineno)}: empty line; remove it")
    return parts[0], (parts[1].strip() if len(parts) > 1 else "")


def read_table(path, check_sorted=True, allow_empty=False, keep_first=False, strip_bom=False):
    """Read a table (a path, or `-` for stdin) as a list of (key, value) pairs in file order.

    Unsorted tables and duplicate keys are errors naming the line, as in Kaldi, because every
    tool downstream merges tables by walking them in order. The fixer reads with
    check_sorted=False, keep_first=True (later duplicates dropped) and strip_bom=True.
    A UTF-8 byte-order mark is an error unless strip_bom: Kaldi would read it into the first key.
    """
    path, text = _read_text(path)
    if text.startswith(BOM):
        if not strip_bom:
            raise bom_error(path)
        text = text[len(BOM):]
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


def bom_error(path):
    """The error for a file that starts with a UTF-8 byte-order mark."""
    return SpeechkitError(
        f"{path}:1: starts with a UTF-8 byte-order mark (added by some editors; Kaldi tools "
        f"would read it as part of the first key); remove it with "
        f"`sed -i '1s/^\\xEF\\xBB\\xBF//' {path}` (utils/fix_data_dir.sh does it for a data dir)")


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
    atomic_write_text(path, format_table(items, path))


def format_table(items, path="table"):
    """The text write_table writes: `key value` lines sorted by key."""
    pairs = items.items() if isinstance(items, dict) else items
    rows = {}
    for key, value in pairs:
        if key in rows:
            raise SpeechkitError(f"{path}: duplicate key {key} while writing")
        rows[key] = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    return "".join(f"{k} {rows[k]}".rstrip(" ") + "\n" for k in sort_keys(rows))

"""manifest.tsv of the embedded corpus: one line per utterance, tab-separated, with a header.

Columns (in this order):

    utt       utterance id, `<speaker>-<index>` (the speaker id is a prefix, as Kaldi wants)
    speaker   speaker id, `s001` ...
    split     train, dev or test; every speaker belongs to one split only
    text      the transcript (words separated by single spaces)
    style     prosody style name (speechkit.corpus.styles)
    voice     eSpeak voice variant (`m3`, `f2`, ...; may contain a space, e.g. `Mr serious`)
    accent    eSpeak language voice (`en-us`, `en-gb-x-rp`, ...)
    rate      words per minute given to eSpeak
    pitch     eSpeak base pitch, 0-100
    range     eSpeak pitch range, 0-100
    volume    eSpeak volume, 0-200
    duration  seconds (4 decimals)
    path      the wav file, RELATIVE TO THE DIRECTORY OF manifest.tsv (`wav/<utt>.wav`)

Lines are sorted by utt in plain byte order (LC_ALL=C sort). Fields never contain tabs or
newlines.
"""
import os

from speechkit.errors import SpeechkitError, where

COLUMNS = ("utt", "speaker", "split", "text", "style", "voice", "accent",
           "rate", "pitch", "range", "volume", "duration", "path")
INT_COLUMNS = ("rate", "pitch", "range", "volume")
FLOAT_COLUMNS = ("duration",)


def _format(row):
    fields = []
    for col in COLUMNS:
        value = row[col]
        value = f"{value:.4f}" if col in FLOAT_COLUMNS else str(value)
        if "\t" in value or "\n" in value or "\r" in value:
            raise ValueError(f"manifest field {col}={value!r} of {row['utt']} has a tab or newline")
        fields.append(value)
    return "\t".join(fields)


def write_manifest(path, rows):
    """Write rows (dicts with COLUMNS) sorted by utt; atomically (temp file, then rename)."""
    rows = sorted(rows, key=lambda r: r["utt"])
    utts = [r["utt"] for r in rows]
    if len(set(utts)) != len(utts):
        raise ValueError(f"duplicate utterance ids in manifest {path}")
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(COLUMNS) + "\n")
        for row in rows:
            f.write(_format(row) + "\n")
    os.replace(tmp, path)


def _parse(path, lineno, header, line):
    fields = line.split("\t")
    if len(fields) != len(header):
        raise SpeechkitError(f"{where(path, lineno)}: {len(fields)} fields, the header has "
                             f"{len(header)}; was the file edited by hand?")
    row = dict(zip(header, fields))
    try:
        for col in INT_COLUMNS:
            row[col] = int(row[col])
        for col in FLOAT_COLUMNS:
            row[col] = float(row[col])
    except ValueError as e:
        raise SpeechkitError(f"{where(path, lineno, row['utt'])}: bad number ({e})") from None
    return row


def read_manifest(path, absolute_paths=False):
    """The rows of manifest.tsv as dicts (numbers converted), in file order.

    With absolute_paths, `path` is resolved against the manifest's directory.
    """
    if not os.path.isfile(path):
        raise SpeechkitError(f"no manifest {path}; run `speechkit synth-corpus` first")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    if not lines:
        raise SpeechkitError(f"{path}: empty manifest (no header line)")
    header = lines[0].split("\t")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise SpeechkitError(f"{where(path, 1)}: header lacks column(s) {', '.join(missing)}")
    rows = [_parse(path, n, header, line) for n, line in enumerate(lines[1:], start=2)]
    if absolute_paths:
        base = os.path.dirname(os.path.abspath(path))
        for row in rows:
            row["path"] = os.path.join(base, row["path"])
    return rows

"""Check that a feats.scp (or cmvn.scp) points at real matrices, as validate_data_dir does.

Kaldi's validate_data_dir.sh runs feat-to-dim. This goes further, because an scp whose arks were
replaced after it was written reads as garbage or as another utterance's features: every entry's
ark must exist, hold a Kaldi matrix header at the entry's offset, and hold the whole matrix; all
entries must have one dimension, and the frame counts must agree with utt2num_frames. The first
entry and one drawn at random are then read in full. Reading ~40 bytes per entry keeps this
cheap (one seek and read each).
"""
import random
from pathlib import Path

from speechkit.errors import SpeechkitError
from speechkit.io.kaldi import ScpReader, binary_header, parse_scp_value

MAX_PER_KIND = 3
_HEAD = 40  # enough for any binary matrix header


def check_scp(scp_path, lines, num_frames=None, rows=None, rng=None, fix=None):
    """(problems, dimension or None) of an scp's entries; `lines` are [(lineno, key, value)].

    num_frames: {key: frames} (utt2num_frames) to compare; rows: the number of rows every
    matrix must have (2 for CMVN stats). rng picks the entry read in full besides the first;
    fix is the advice ending each problem.
    """
    scp_path = Path(scp_path)
    problems, counts = [], {}
    fix = fix or f"make the features again (utils/make_feats.sh {scp_path.parent})"

    def add(kind, msg):
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= MAX_PER_KIND:
            problems.append(msg)

    dims, handles = {}, {}
    try:
        for lineno, key, value in lines:
            origin = f"{scp_path}:{lineno} (key {key})"
            shape = _entry_shape(value, origin, handles, add, fix)
            if shape is None:
                continue
            nrows, ncols = shape
            if not dims:
                dims[ncols] = key
            elif ncols not in dims:
                first_dim, first_key = next(iter(dims.items()))
                add("dim", f"{origin}: dimension {ncols}, but {first_key} (the first entry) has "
                           f"{first_dim}; {fix}")
            if rows is not None and nrows != rows:
                add("rows", f"{origin}: {nrows} rows, expected {rows}; {fix}")
            if num_frames is not None and key in num_frames and str(nrows) != num_frames[key]:
                add("frames", f"{origin}: {nrows} frames, but utt2num_frames says "
                              f"{num_frames[key]}; {fix}")
    finally:
        for fd in handles.values():
            if fd is not None:
                fd.close()
    for kind, n in counts.items():
        if n > MAX_PER_KIND:
            problems.append(f"{scp_path}: {n - MAX_PER_KIND} more entries with the same problem")
    if not problems and lines:
        problems += _read_samples(scp_path, lines, rng or random.Random(), fix)
    return problems, next(iter(dims), None)


def _entry_shape(value, origin, handles, add, fix):
    """(rows, cols) from the header at an entry's offset, or None (checked elsewhere / bad)."""
    if not value:
        add("empty", f"{origin}: no ark position; each line is `<key> <file.ark>:<offset>`")
        return None
    ark, offset, slices, pipe = parse_scp_value(value)
    if pipe or offset is None:
        return None  # a command, or a bare matrix file: read in full below
    if ark not in handles:
        try:
            handles[ark] = open(ark, "rb")
        except OSError as e:
            handles[ark] = None
            add("missing", f"{origin}: cannot open ark {ark} ({e.strerror or e}); {fix}")
    fd = handles[ark]
    if fd is None:
        return None
    fd.seek(0, 2)
    size = fd.tell()
    if offset >= size:
        add("offset", f"{origin}: offset {offset} is past the end of {ark} ({size} bytes): the "
                      f"ark was replaced or truncated after this scp was written; {fix}")
        return None
    fd.seek(offset)
    try:
        header = binary_header(fd.read(_HEAD))
    except SpeechkitError as e:
        add("header", f"{origin}: no Kaldi matrix at {ark}:{offset} ({e}): the ark was replaced "
                      f"or damaged after this scp was written; {fix}")
        return None
    if header is None or slices is not None:
        return None  # a text matrix or a range: read in full below if drawn
    nrows, ncols, nbytes = header
    if offset + nbytes > size:
        add("offset", f"{origin}: the {nrows}x{ncols} matrix at {ark}:{offset} runs past the end "
                      f"of the ark ({size} bytes): it is truncated; {fix}")
        return None
    return nrows, ncols


def _read_samples(scp_path, lines, rng, fix):
    """Read the first entry and a random one in full: both must decode, with one dimension."""
    reader = ScpReader(scp_path, [(key, value) for _, key, value in lines])
    picks = sorted({0, rng.randrange(len(lines))})
    problems, dims = [], set()
    for i in picks:
        try:
            mat = reader[lines[i][1]]
        except SpeechkitError as e:
            problems.append(f"{e}; {fix}")
            continue
        dims.add(mat.shape[1] if mat.ndim == 2 else mat.shape[0])
    if len(dims) > 1:
        keys = " and ".join(lines[i][1] for i in picks)
        problems.append(f"{scp_path}: {keys} read with different dimensions {sorted(dims)}; {fix}")
    return problems

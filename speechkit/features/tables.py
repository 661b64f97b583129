"""Text tables named the Kaldi way on feature command lines (`--spk2utt=ark:data/x/spk2utt`).

Kaldi tools take these as rspecifiers/wspecifiers; a plain path works too, so both
`--utt2spk data/train/utt2spk` and `--utt2spk ark:data/train/utt2spk` read the same file.
"""
import sys

from speechkit.errors import SpeechkitError
from speechkit.io import read_dict, write_table


def table_path(spec):
    """'ark:data/spk2utt' or 'ark,t:x' -> the path; a plain path stays as it is."""
    head, sep, target = spec.partition(":")
    if sep and "ark" in head.split(","):
        return target
    if sep and "scp" in head.split(","):
        raise SpeechkitError(f"'{spec}': give this text table as ark:FILE or FILE, not scp:")
    return spec


def read_spk2utt(spec):
    """{speaker: [utt, ...]} in file order."""
    return {spk: utts.split() for spk, utts in read_dict(table_path(spec)).items()}


def read_utt2spk(spec):
    return read_dict(table_path(spec))


def write_scalar_table(spec, pairs):
    """`key value` lines to a path (sorted, atomic) or to stdout for '-' (in the given order)."""
    path = table_path(spec)
    if path == "-":
        sys.stdout.write("".join(f"{k} {v}\n" for k, v in pairs))
        sys.stdout.flush()
    else:
        write_table(path, pairs)

"""Text tables named the Kaldi way on feature command lines (`--spk2utt=ark:data/x/spk2utt`).

Kaldi tools take these as rspecifiers/wspecifiers; a plain path works too, so both
`--utt2spk data/train/utt2spk` and `--utt2spk ark:data/train/utt2spk` read the same file.
"""
import sys

from speechkit.io.atomic import write_error
from speechkit.io.table import read_dict, table_path, write_table


def read_spk2utt(spec):
    """{speaker: [utt, ...]} in file order."""
    return {spk: utts.split() for spk, utts in read_dict(table_path(spec)).items()}


def read_utt2spk(spec):
    return read_dict(table_path(spec))


def write_scalar_table(spec, pairs):
    """`key value` lines to a path (sorted, atomic) or to stdout for '-' (in the given order)."""
    path = table_path(spec)
    if path == "-":
        try:
            sys.stdout.write("".join(f"{k} {v}\n" for k, v in pairs))
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise write_error("stdout", e) from None
    else:
        write_table(path, pairs)

"""Kaldi's cepstral mean and variance normalisation (compute-cmvn-stats / apply-cmvn).

Stats of D-dimensional features are Kaldi's float64 matrix of shape (2, D+1):

    row 0:  sum of x_d over frames ...,   frame count
    row 1:  sum of x_d^2 over frames ..., 0

Stats are either a table (ark/scp, keyed by speaker or utterance) or one bare matrix in a file,
as Kaldi writes `compute-cmvn-stats scp:feats.scp global.cmvn` and reads `apply-cmvn global.cmvn`;
`read_stats_file` also takes an ark that holds exactly one entry.
"""
import io
from pathlib import Path

import kaldiio
import numpy as np

from speechkit.errors import SpeechkitError
from speechkit.io import load_scp, parse_rspecifier, read_matrix_dict
from speechkit.io.atomic import atomic_write_bytes

VAR_FLOOR = 1e-20  # Kaldi's floor on the variance before 1/sqrt


def acc_stats(feats, stats=None):
    """Add a (frames, D) matrix to (2, D+1) float64 stats (new ones if None); returns them."""
    feats = np.asarray(feats, dtype=np.float64)
    if stats is None:
        stats = np.zeros((2, feats.shape[1] + 1))
    elif stats.shape != (2, feats.shape[1] + 1):
        raise SpeechkitError(f"feature dimension {feats.shape[1]} does not match stats of "
                             f"dimension {stats.shape[1] - 1}")
    stats[0, :-1] += feats.sum(axis=0)
    stats[0, -1] += len(feats)
    stats[1, :-1] += np.square(feats).sum(axis=0)
    return stats


def apply_cmvn(feats, stats, norm_means=True, norm_vars=False):
    """Normalise a (frames, D) matrix with (2, D+1) stats as Kaldi's ApplyCmvn; float32 out."""
    if norm_vars and not norm_means:
        raise SpeechkitError("cannot normalise variances without means (Kaldi's rule); "
                             "use --norm-means true")
    stats = np.asarray(stats, dtype=np.float64)
    if stats.shape != (2, feats.shape[1] + 1):
        raise SpeechkitError(f"stats of shape {stats.shape} do not fit features of dimension "
                             f"{feats.shape[1]}; expected (2, {feats.shape[1] + 1})")
    if not norm_means:
        return np.asarray(feats, dtype=np.float32)
    count = stats[0, -1]
    if count < 1.0:
        raise SpeechkitError(f"insufficient CMVN stats: frame count {count}")
    mean = stats[0, :-1] / count
    if not norm_vars:
        return (feats - mean).astype(np.float32)
    var = np.maximum(stats[1, :-1] / count - mean ** 2, VAR_FLOOR)
    scale = 1.0 / np.sqrt(var)
    return (feats * scale - mean * scale).astype(np.float32)


class FeatureNorm:
    """What training and inference both do to a (frames, D) feature matrix: global CMVN with the
    training set's stats (means and variances), then, with utt_cmn, each utterance's own mean
    taken out (ESPnet's utterance_mvn without variances; Kaldi's per-utterance apply-cmvn).
    A fixed colouring of the spectrum (a microphone, a voice, a synthesizer) is a constant
    offset in log-mel features; the utterance mean removes it."""

    def __init__(self, cmvn=None, utt_cmn=False):
        self.stats = read_stats_file(cmvn) if cmvn else None
        self.utt_cmn = bool(utt_cmn)

    @classmethod
    def from_config(cls, data):
        """From a config's `data` section: its `cmvn` stats file and `utt_cmn` switch."""
        return cls(data.get("cmvn"), data.get("utt_cmn", False))

    def __call__(self, feats):
        if self.stats is not None:
            feats = apply_cmvn(feats, self.stats, norm_vars=True)
        if self.utt_cmn and len(feats):
            feats = np.asarray(feats, np.float32)
            feats = feats - feats.mean(axis=0, keepdims=True)
        return feats


def is_specifier(arg):
    """True for Kaldi rspecifiers/wspecifiers (`scp:x`, `ark,t:-`), false for plain file names."""
    head, sep, _ = arg.partition(":")
    return bool(sep) and any(flag in ("ark", "scp") for flag in head.split(","))


def read_stats_file(path):
    """One stats matrix from a file: Kaldi's bare matrix (binary or text) or a 1-entry ark."""
    if not Path(path).is_file():
        raise SpeechkitError(f"CMVN stats file {path} does not exist")
    with open(path, "rb") as f:
        start = f.read(64).lstrip()
    try:
        if start.startswith((b"\0B", b"[")):
            return np.asarray(kaldiio.load_mat(str(path)), dtype=np.float64)
        entries = read_matrix_dict(f"ark:{path}", dtype=np.float64)
    except (ValueError, OSError, EOFError) as e:
        raise SpeechkitError(f"{path}: cannot read CMVN stats: {e}") from None
    if len(entries) != 1:
        raise SpeechkitError(f"{path}: holds {len(entries)} stats entries; a global stats file "
                             f"holds one (give a table as scp:FILE or ark:FILE instead)")
    return next(iter(entries.values()))


def write_stats_file(path, stats):
    """Write one stats matrix as Kaldi's bare binary matrix, atomically."""
    buffer = io.BytesIO()
    kaldiio.save_mat(buffer, np.asarray(stats, dtype=np.float64))
    atomic_write_bytes(path, buffer.getvalue())


def open_stats_table(rspecifier):
    """{key: stats} for an rspecifier: lazy for scp (random access), read at once for ark."""
    kind, target = parse_rspecifier(rspecifier)
    if kind == "scp" and target != "-":
        return load_scp(target)
    return read_matrix_dict(rspecifier, dtype=np.float64)

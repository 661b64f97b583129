"""Features of a data dir for training: feats.scp normalised (FeatureNorm), lengths, targets."""
import logging
from pathlib import Path

import numpy as np

from speechkit.errors import SpeechkitError, where
from speechkit.features.cmvn import FeatureNorm
from speechkit.io import load_scp, read_dict

log = logging.getLogger("speechkit.train")


class FeatureSet:
    """Random access to normalised features by utterance id, with their lengths.

    `targets` ({utt: target}) restricts the set to utterances that have one; utterances
    without are dropped with a count in the log (Kaldi's fix_data_dir would do the same).
    """

    def __init__(self, data_dir, norm=None, preload=True):
        self.data_dir = Path(data_dir)
        self.feats = load_scp(self.data_dir / "feats.scp")
        self.norm = norm or FeatureNorm()
        self.lengths = self._lengths()
        self.keys = list(self.lengths)
        self.targets = None
        self.cache = {k: self._load(k) for k in self.keys} if preload else None

    def set_targets(self, targets):
        """Keep the utterances that have a target (the others are counted in the log)."""
        keys = [k for k in self.keys if k in targets]
        if len(keys) < len(self.keys):
            log.warning("%s: %d of %d utterances have no usable target and are left out",
                        self.data_dir, len(self.keys) - len(keys), len(self.keys))
        if not keys:
            raise SpeechkitError(f"{self.data_dir}: no utterance has a usable target")
        self.keys, self.targets = keys, targets
        self.lengths = {k: self.lengths[k] for k in keys}

    def _lengths(self):
        path = self.data_dir / "utt2num_frames"
        if path.is_file():
            return {k: int(v) for k, v in read_dict(path).items()}
        log.info("%s has no utt2num_frames; reading every matrix for its length", self.data_dir)
        return {k: len(self.feats[k]) for k in self.feats}

    def _load(self, key):
        try:
            mat = np.asarray(self.feats[key], dtype=np.float32)
        except (OSError, ValueError, KeyError) as e:
            raise SpeechkitError(f"{where(self.data_dir / 'feats.scp', key=key)}: cannot read "
                                 f"features ({e})") from None
        return self.norm(mat)

    def __len__(self):
        return len(self.keys)

    def __getitem__(self, key):
        return self.cache[key] if self.cache is not None else self._load(key)

    @property
    def dim(self):
        return self[self.keys[0]].shape[1]

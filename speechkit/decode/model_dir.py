"""A trained experiment dir as a self-contained model: network, feature config, CMVN stats.

Everything inference needs is in exp/<tag>/ (config.yaml, a checkpoint, feats.<ext> and
feats.type, cmvn.ark, and the task's own files such as tokens.txt), so decoding a user's audio
needs no data dir.
"""
from pathlib import Path

import numpy as np
import torch

from speechkit.errors import SpeechkitError
from speechkit.features.cmvn import apply_cmvn, read_stats_file
from speechkit.features.config import load_config as load_feature_config
from speechkit.features.extract import compute
from speechkit.tasks import get_task
from speechkit.train import checkpoint as ckpt
from speechkit.train.config import read_saved


class ModelDir:
    def __init__(self, path, checkpoint="ave.pt", device="cpu"):
        self.path = Path(path)
        if not (self.path / "config.yaml").is_file():
            raise SpeechkitError(f"{self.path}: not a model dir (no config.yaml); give the "
                                 f"exp/<tag> dir of a training run")
        self.config = read_saved(self.path / "config.yaml")
        self.config["data"]["tokens"] = str(self.path / "tokens.txt")
        self.task = get_task(self.config["task"])(self.config, self.path)
        self.feat_type = (self.path / "feats.type").read_text().strip()
        self.feat_options = load_feature_config(self.feat_type, self._feat_conf())
        cmvn = self.path / "cmvn.ark"
        self.cmvn_path = cmvn if cmvn.is_file() else None
        self.stats = read_stats_file(cmvn) if self.cmvn_path else None
        self.device = torch.device(device)
        state = ckpt.load(self._checkpoint(checkpoint), self.device)
        self.model = self.task.build_model(self.feature_dim())
        self.model.load_state_dict(state)
        self.model.to(self.device).eval()

    def _feat_conf(self):
        for ext in (".yaml", ".conf"):
            if (self.path / f"feats{ext}").is_file():
                return self.path / f"feats{ext}"
        raise SpeechkitError(f"{self.path}: no feats.yaml/feats.conf (the feature config)")

    def _checkpoint(self, name):
        path = self.path / name
        if not path.exists() and name == "ave.pt":
            path = self.path / "best.pt"
        return path

    def features(self, waveform, sample_rate):
        """Normalised features of one waveform, as in training."""
        feats = compute(self.feat_type, self.feat_options, waveform, sample_rate)
        return feats if self.stats is None else apply_cmvn(feats, self.stats, norm_vars=True)

    def feature_dim(self):
        """Dimension of the features, from the feature config (half a second of silence)."""
        rate = int(self.feat_options["sample_frequency"])
        return compute(self.feat_type, self.feat_options, np.zeros(rate // 2, np.float32), rate).shape[1]



"""A trained experiment dir as a self-contained model: config, network, feature front-end.

Everything inference needs is in exp/<tag>/: config.yaml, a checkpoint, and the task's assets
(the typed feature config feats.yaml, cmvn.ark, tokens.txt, ...), so decoding a user's audio
needs no data dir. The config's `data` keys are pointed at those copies before the task is
built, so a task reads the same keys in training and in inference.
"""
from pathlib import Path

import torch

from speechkit.errors import SpeechkitError
from speechkit.features.cmvn import FeatureNorm
from speechkit.tasks import get_task
from speechkit.train import checkpoint as ckpt
from speechkit.train.config import read_saved


class ModelDir:
    def __init__(self, path, checkpoint="ave.pt", device="cpu", task=None):
        self.path = Path(path)
        if not (self.path / "config.yaml").is_file():
            raise SpeechkitError(f"{self.path}: not a model dir (no config.yaml); give the "
                                 f"exp/<tag> dir of a training run")
        self.config = read_saved(self.path / "config.yaml")
        if task is not None and self.config.get("task") != task:
            raise SpeechkitError(f"{self.path} is a '{self.config.get('task')}' model, not "
                                 f"'{task}'; use `speechkit infer {self.config.get('task')}`")
        task_cls = get_task(self.config.get("task"))
        self._point_at_assets(task_cls)
        self.task = task_cls(self.config, self.path)
        self.frontend = self.task.frontend
        self.norm = FeatureNorm.from_config(self.config["data"])
        self.device = torch.device(device)
        self.model = self.task.build_model(self.task.input_dim())
        self._load_weights(self._checkpoint(checkpoint))
        self.model.to(self.device).eval()

    def _point_at_assets(self, task_cls):
        data = self.config.setdefault("data", {})
        for key, name in task_cls.assets.items():
            if not data.get(key):
                continue
            if not (self.path / name).is_file():
                raise SpeechkitError(f"{self.path}: {name} is missing (config data.{key} was "
                                     f"{data[key]}); copy it back or retrain")
            data[key] = str(self.path / name)

    def _checkpoint(self, name):
        path = self.path / name
        if not path.exists() and name == "ave.pt":
            path = self.path / "best.pt"
        return path

    def _load_weights(self, path):
        try:
            self.model.load_state_dict(ckpt.load(path, self.device))
        except RuntimeError as e:
            raise SpeechkitError(f"{path}: its weights do not fit the network that "
                                 f"{self.path}/config.yaml describes ({str(e).splitlines()[0]})") from None

    @property
    def sample_rate(self):
        return self.frontend.sample_rate

    def features(self, waveform, sample_rate):
        """Normalised features of one waveform, as in training."""
        feats = self.frontend(waveform, sample_rate)
        return self.norm(feats)

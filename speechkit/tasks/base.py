"""The seam between a task and the shared trainer and inference.

A task owns its examples, batches and outputs; the trainer owns only the loop (steps, epochs,
checkpoints, early stopping, DDP). What a task declares, in the order training uses it:

- `defaults`: its config sections, `data:` included (task inputs are `data.<key>` options, e.g.
  `data.tokens=data/lang/tokens.txt`, never flags of the generic command).
- `input_dim()`, `build_model(input_dim)`: the network, sized from the feature front-end that
  the typed feature config (`data.features`, default `<train data>/feats.yaml`) describes.
- `dataset(part)`: the train or dev examples, addressable by key (FeatureTask: `feats.scp`
  with global CMVN and the task's `targets()`).
- `sampler(dataset, train)`: the global batches of each epoch, a pure function of (seed,
  epoch) (see train.batching.BucketSampler, the default).
- `collate(keys, dataset)`: one rank's share of a batch as tensors.
- `loss(model, batch)`: (sum of losses, weight, {stat: sum}); the weight is what the loss is
  normalised by (utterances, frames, pairs); the trainer sums it over ranks and divides.
- `assets`: config `data` keys whose files the model dir keeps ({key: file name}); ModelDir
  points the keys at those copies, so inference needs no data dir.
- hooks `on_step_end(trainer)` and `on_epoch_end(trainer, epoch)` (KL annealing, MTS kernels).
"""
from abc import ABC, abstractmethod
from pathlib import Path

from speechkit.errors import SpeechkitError
from speechkit.features.cmvn import FeatureNorm
from speechkit.features.config import FEATS_FILE
from speechkit.features.frontend import load_frontend
from speechkit.registry import Registry
from speechkit.io import read_dict
from speechkit.train.batching import BucketSampler, CopySampler, copy_groups
from speechkit.train.dataset import FeatureSet

TASKS = Registry("task")
get_task = TASKS.get


def register(name):
    def add(cls):
        cls.name = name
        return TASKS.register(name)(cls)
    return add


class Task(ABC):
    name = None
    defaults = {}
    stats = ("loss",)  # the sums `loss` returns, reduced over ranks by name
    assets = {"features": FEATS_FILE, "cmvn": "cmvn.ark"}

    def __init__(self, config, model_dir):
        self.config = config
        self.data = config["data"]
        self.model_dir = Path(model_dir)
        self.frontend = load_frontend(self.data["features"])

    # --- the network ---------------------------------------------------------------------------
    def input_dim(self):
        return self.frontend.dim

    @abstractmethod
    def build_model(self, input_dim):
        """The network, for input_dim-dimensional features."""

    # --- examples and batches ------------------------------------------------------------------
    @abstractmethod
    def dataset(self, part):
        """Examples of config data.<part> ('train' or 'dev'), addressable by key; after
        build_model, so that targets may depend on the network (CTC's output lengths)."""

    def sampler(self, dataset, train, world_size=1):
        conf = self.config["train"]
        if conf["copies"] not in ("all", "one"):
            raise SpeechkitError(f"train.copies must be 'all' (every copy every epoch) or 'one' "
                                 f"(one copy of each utterance per epoch), got {conf['copies']!r}")
        if train and conf["copies"] == "one":
            return CopySampler(dataset.lengths, self.copy_groups(dataset), conf["batch_frames"],
                               conf["max_batch"], world_size, conf["seed"])
        return BucketSampler(dataset.lengths, conf["batch_frames"], conf["max_batch"], world_size,
                             conf["seed"], shuffle=train)

    def every_copy_only(self):
        """For tasks with a sampler of their own, which does not draw copies: refuse
        train.copies: one rather than ignore it."""
        if self.config["train"]["copies"] != "all":
            raise SpeechkitError(f"train.copies: {self.config['train']['copies']} is not "
                                 f"supported by the {self.config.get('task')} task's sampler; "
                                 f"use train.copies: all")

    def copy_groups(self, dataset):
        """{original utterance: its copies in the training set}, from the data dir's utt2uniq
        (written by the perturb scripts; without one every utterance is its own original)."""
        path = Path(dataset.data_dir) / "utt2uniq"
        utt2uniq = read_dict(path) if path.is_file() else {}
        return copy_groups(dataset.lengths, utt2uniq)

    @abstractmethod
    def collate(self, keys, dataset):
        """{name: tensor} for one rank's share of a batch."""

    # --- loss and metrics ----------------------------------------------------------------------
    @abstractmethod
    def loss(self, model, batch):
        """(sum of losses, weight, {stat: sum}): the trainer divides by the summed weight."""

    def metrics(self, sums, count):
        """Epoch metrics from summed stats; 'loss' is what early stopping watches."""
        return {name: value / max(count, 1) for name, value in sums.items()}

    # --- hooks ---------------------------------------------------------------------------------
    def on_step_end(self, trainer):
        """After every optimizer step (trainer.state['step'] counts them)."""

    def on_epoch_end(self, trainer, epoch):
        """After an epoch's training batches, before the dev set is scored."""


class FeatureTask(Task):
    """A task on `feats.scp` (global CMVN applied) with one target per utterance."""

    def dataset(self, part):
        data_dir = Path(self.data[part])
        dataset = FeatureSet(data_dir, FeatureNorm.from_config(self.data),
                             self.config["train"]["preload"])
        if dataset.dim != self.input_dim():
            raise SpeechkitError(f"{data_dir}/feats.scp: {dataset.dim}-dimensional features, but "
                                 f"{self.data['features']} describes {self.input_dim()}; "
                                 f"recompute the features of {data_dir} with that config")
        dataset.set_targets(self.targets(data_dir, dataset.lengths))
        return dataset

    @abstractmethod
    def targets(self, data_dir, lengths):
        """{utt: target} for the utterances of a data dir ({utt: frames} given); utterances
        that cannot be trained on are left out with a warning."""

    def collate(self, keys, dataset):
        feats = [dataset[k] for k in keys]
        targets = [dataset.targets[k] for k in keys] if dataset.targets is not None else None
        return self.make_batch(keys, feats, targets)

    @abstractmethod
    def make_batch(self, keys, feats, targets):
        """{name: tensor} for a list of utterances (targets is None at inference)."""

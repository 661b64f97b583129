"""The interface between a task and the shared trainer."""
from abc import ABC, abstractmethod

from speechkit.registry import Registry

TASKS = Registry("task")
get_task = TASKS.get


def register(name):
    def add(cls):
        cls.name = name
        return TASKS.register(name)(cls)
    return add


class Task(ABC):
    """Subclasses say how to read targets, build the network, batch, and score a batch.

    `loss` returns (sum of per-utterance losses, number of utterances, {stat: sum}); the trainer
    divides by the global batch size itself, which keeps DDP equal to one process.
    """
    name = None
    defaults = {}
    stats = ("loss",)  # the sums `loss` returns, reduced over ranks by name

    def __init__(self, config, model_dir):
        self.config = config
        self.model_dir = model_dir

    def prepare(self, data):
        """Copy what inference needs (token list, ...) into the model dir; called once."""

    @abstractmethod
    def targets(self, data_dir, lengths):
        """{utt: target} for the utterances of a data dir ({utt: frames} given), after
        build_model; utterances that cannot be trained on are left out with a warning."""

    @abstractmethod
    def build_model(self, input_dim):
        """The network, for input_dim-dimensional features."""

    @abstractmethod
    def make_batch(self, keys, feats, targets):
        """{name: tensor} for a list of utterances (targets is None at inference)."""

    @abstractmethod
    def loss(self, model, batch):
        """(sum of per-utterance losses, number of utterances, {stat: sum})."""

    def metrics(self, sums, count):
        """Epoch metrics from summed stats; 'loss' is what early stopping watches."""
        return {name: value / max(count, 1) for name, value in sums.items()}

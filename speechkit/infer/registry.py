"""Inference front-ends by task name, for `speechkit infer TASK` and for decoding data dirs.

One contract for single files and data dirs: a front-end turns a batch of inputs (normalised
feature matrices, or waveforms for tasks whose model owns its front-end) into results, and
hands each result to a writer of the kind it declares (`output`: 'text' lines, 'wav' files plus
a wav.scp, or 'matrix' ark/scp). `speechkit infer` feeds it the user's audio; data-dir
decoders feed it a data dir's features; both call `from_features`.
"""
from speechkit.infer.model_dir import ModelDir
from speechkit.registry import Registry

INFERENCE = Registry("inference task")


class Inference:
    """Subclasses set `output` and implement `from_features(feats_list) -> [result]`."""
    output = "text"

    def __init__(self, model_dir, checkpoint="ave.pt", device="cpu", task=None):
        """`task`: the task the caller expects the model to be trained for (checked)."""
        self.md = ModelDir(model_dir, checkpoint, device, task=task)

    def from_features(self, feats_list):
        """Results of a batch of normalised feature matrices."""
        raise TypeError(f"{type(self).__name__} must implement from_features")

    def format(self, result):
        """A result as the text `speechkit infer` prints after the key."""
        return result

    def __call__(self, waveform, sample_rate):
        return self.from_features([self.md.features(waveform, sample_rate)])[0]

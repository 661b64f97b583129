"""Utterance classification with a trained model: posteriors and the best label.

`Classifier(model_dir)(waveform, rate)` -> posteriors; `format()` makes them 'label posterior'.
`speechkit classify` runs it over a data dir's features, `speechkit infer kws` over wav files.
"""
import numpy as np

from speechkit.infer.registry import INFERENCE, Inference


@INFERENCE.register("emotion")
@INFERENCE.register("kws")
class Classifier(Inference):
    output = "text"

    def __init__(self, model_dir, checkpoint="ave.pt", device="cpu", task=None):
        super().__init__(model_dir, checkpoint, device, task)
        self.labels = self.md.task.labels.tokens

    def from_features(self, feats_list):
        """(classes,) numpy posteriors of each normalised (T, D) matrix."""
        return list(self.md.task.posteriors(self.md.model, feats_list).cpu().numpy())

    def best(self, posteriors):
        return self.labels[int(np.argmax(posteriors))]

    def format(self, posteriors):
        return f"{self.best(posteriors)} {posteriors.max():.4f}"

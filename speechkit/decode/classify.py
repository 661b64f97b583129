"""Utterance classification with a trained model: posteriors and the best label.

`Classifier(model_dir)(waveform, rate)` -> 'label posterior'; `speechkit classify` runs it over
a data dir's features, `speechkit infer kws` over wav files.
"""
import numpy as np

from speechkit.decode.model_dir import ModelDir
from speechkit.decode.registry import INFERENCE


@INFERENCE.register("kws")
class Classifier:
    def __init__(self, model_dir, checkpoint="ave.pt", device="cpu"):
        self.md = ModelDir(model_dir, checkpoint, device)
        self.labels = self.md.task.labels.tokens

    def posteriors(self, feats_list):
        """(N, classes) numpy posteriors of normalised (T, D) matrices."""
        return self.md.task.posteriors(self.md.model, feats_list).cpu().numpy()

    def __call__(self, waveform, sample_rate):
        post = self.posteriors([self.md.features(waveform, sample_rate)])[0]
        best = int(np.argmax(post))
        return f"{self.labels[best]} {post[best]:.4f}"

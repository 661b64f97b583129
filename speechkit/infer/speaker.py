"""Speaker embeddings from a trained model, and same/different decisions on pairs.

`SpeakerEmbedder(model_dir, layer="hidden")(waveform, rate)` -> a (D,) embedding: the mean over
the utterance's segments (hop half a segment) of one layer of the network, `hidden` being its
default layer (the CNN's first dense layer, the BLSTM's pooled output) and `softmax` the output
distribution. `speechkit infer speaker` writes them as 1 x D matrices (ark,t: on stdout, or -o
WSPECIFIER); `speechkit extract-embeddings` does a data dir.

Pairs are scored by cosine similarity, or, for the softmax layer, by minus the symmetric KL
divergence (the siamese network's own distance); higher means more alike. The threshold that
`compare` applies was chosen on dev trials and stored in the model dir as thresholds.json
(speechkit.metrics.thresholds) by `speechkit score-speaker --choose-threshold`.
"""
from speechkit.errors import SpeechkitError
from speechkit.infer.registry import INFERENCE, Inference
from speechkit.metrics.thresholds import THRESHOLDS, scoring_for, stored_threshold
from speechkit.metrics.verification import SCORERS


@INFERENCE.register("speaker")
class SpeakerEmbedder(Inference):
    output = "matrix"

    def __init__(self, model_dir, checkpoint="ave.pt", device="cpu", task=None, layer=None):
        super().__init__(model_dir, checkpoint, device, task)
        self.layer = self.md.task.resolve_layer(self.md.model, layer)
        self.scoring = scoring_for(self.layer)

    def from_features(self, feats_list):
        """(D,) numpy embedding of each normalised (T, D) feature matrix."""
        return self.md.task.embed(self.md.model, feats_list, self.layer)

    def score(self, a, b):
        return float(SCORERS[self.scoring](a, b)[0])

    def compare(self, a, b):
        """'<score> same|different' for two embeddings, at the threshold chosen on dev."""
        threshold = stored_threshold(self.md.path, self.layer, self.scoring)
        if threshold is None:
            raise SpeechkitError(f"{self.md.path}/{THRESHOLDS} has no threshold for layer "
                                 f"{self.layer} ({self.scoring} scoring); choose one on dev "
                                 f"trials: speechkit score-speaker --choose-threshold "
                                 f"{self.md.path}/decode_dev_<layer> (the recipe's stage 6)")
        score = self.score(a, b)
        return f"{score:.4f} {'same' if score >= threshold else 'different'}"

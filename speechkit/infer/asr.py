"""Speech to text with a trained CTC model: `Speech2Text(model_dir)(waveform, rate)` -> text.

Usable from Python (as ESPnet's Speech2Text) and behind `speechkit asr-decode` (a data dir's
features) and `speechkit infer asr` (a user's wav files).
"""
import torch

from speechkit.data.batch import pad
from speechkit.infer.registry import INFERENCE, Inference
from speechkit.search.ctc import greedy_search, prefix_beam_search


@INFERENCE.register("asr")
class Speech2Text(Inference):
    output = "text"

    def __init__(self, model_dir, checkpoint="ave.pt", device="cpu", task=None, beam=10):
        super().__init__(model_dir, checkpoint, device, task)
        self.tokens = self.md.task.tokens
        self.beam = beam

    def search(self, log_probs, length):
        if self.beam <= 1:
            return greedy_search(log_probs, length)
        return prefix_beam_search(log_probs, beam=self.beam, length=length)[0][0]

    @torch.no_grad()
    def from_features(self, feats_list):
        """Normalised (T, D) feature matrices -> transcripts."""
        x, lengths = pad(feats_list)
        log_probs, out_lengths = self.md.model(x.to(self.md.device), lengths.to(self.md.device))
        log_probs = log_probs.float().cpu().numpy()
        return [self.tokens.decode(self.search(lp, int(n))) for lp, n in zip(log_probs, out_lengths)]

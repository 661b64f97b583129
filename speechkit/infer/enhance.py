"""Speech enhancement with a trained model, and the oracle baselines scored beside it.

`Enhancer(model_dir)(waveform, rate)` -> the enhanced waveform (same length). Inputs longer
than `chunk_seconds` run in overlapping chunks (speechkit.nn.phasen_chunks.enhance_long), so
memory stays bounded; shorter ones in one pass. Every utterance runs alone (a batch of one),
so `speechkit infer enhance` on a file and `speechkit enhance` on a data dir give the same
samples. `oracle(kind, noisy, clean)` makes the baselines that need the clean reference:
"noisy" (the input itself) and "irm" (the ideal ratio mask sqrt(|S|^2 / (|S|^2 + |N|^2)) on
the noisy STFT, noisy phase kept: about the best a magnitude mask alone can do).
"""
import numpy as np
import torch

from speechkit.errors import SpeechkitError
from speechkit.infer.registry import INFERENCE, Inference
from speechkit.nn.phasen import STFT
from speechkit.nn.phasen_chunks import enhance_long

ORACLES = ("noisy", "irm")
# The oracle mask's STFT: PHASEN's (16 kHz: 25 ms Hann window, 512-point FFT, 6.25 ms hop).
ORACLE_STFT = dict(n_fft=512, win_length=400, hop_length=100)


@INFERENCE.register("enhance")
class Enhancer(Inference):
    output = "wav"

    def __init__(self, model_dir, checkpoint="ave.pt", device="cpu", task=None,
                 chunk_seconds=4.0, overlap_seconds=0.5):
        super().__init__(model_dir, checkpoint, device, task)
        if not chunk_seconds > overlap_seconds >= 0:
            raise SpeechkitError(f"chunking: need chunk seconds > overlap seconds >= 0, got "
                                 f"{chunk_seconds} and {overlap_seconds}")
        self.chunk_seconds, self.overlap_seconds = chunk_seconds, overlap_seconds

    @torch.no_grad()
    def enhance(self, wav):
        """Enhanced float32 samples of one 1-D waveform at the model's sample rate."""
        x = torch.as_tensor(np.asarray(wav, np.float32), device=self.md.device)
        if x.numel() == 0:
            raise SpeechkitError("the input has no samples")
        y = enhance_long(self.md.model, x, self.chunk_seconds, self.overlap_seconds,
                         self.md.sample_rate)
        return y.float().cpu().numpy()

    def from_features(self, feats_list):
        """Waveform front-end matrices (samples, 1) -> enhanced waveforms."""
        return [self.enhance(np.asarray(f)[:, 0]) for f in feats_list]


def ideal_ratio_mask(noisy, clean, stft_conf=None):
    """Oracle IRM enhancement of one pair of 1-D waveforms (float64 STFT), noisy phase kept."""
    stft = STFT(**(stft_conf or ORACLE_STFT))
    y = torch.as_tensor(np.asarray(noisy, np.float64))[None]
    s = torch.as_tensor(np.asarray(clean, np.float64))[None]
    spec_y, spec_s, spec_n = stft(y), stft(s), stft(y - s)
    power_s, power_n = spec_s.abs().pow(2), spec_n.abs().pow(2)
    mask = torch.sqrt(power_s / (power_s + power_n).clamp(min=1e-20))
    return stft.inverse(spec_y * mask, y.shape[1])[0].numpy().astype(np.float32)


def oracle(kind, noisy, clean):
    """The baseline `kind` (see ORACLES) of one (noisy, clean) pair."""
    if kind == "noisy":
        return np.asarray(noisy, np.float32)
    if kind == "irm":
        return ideal_ratio_mask(noisy, clean)
    raise SpeechkitError(f"unknown oracle {kind!r}; choose one of {', '.join(ORACLES)}")

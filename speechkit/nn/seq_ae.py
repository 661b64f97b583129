"""LSTM sequence autoencoder (Malhotra et al. 2016) over mel-cepstral frames.

An encoder LSTM (optionally bidirectional, several layers) reads a window or a whole utterance;
its top layer's final state (both directions side by side) initialises a decoder LSTM cell that
rebuilds the sequence in reverse order: step 0 predicts the last frame from that state alone,
each later step is fed the previous frame, its own reconstruction by default or, with teacher
forcing in training, the true one.

`target: frames` predicts each frame. `target: delta` predicts differences between consecutive
steps (step 0 the last frame itself, step s the frame at s minus the one at s-1, in decoding
order) and reconstructs frames by summing them; a decoder that merely copies its input earns
nothing there, which is the cure for a model that only ever learns the average.

Input (batch, T, D) with lengths: padded steps never reach the encoder (packed sequences) nor
the decoder's inputs, and `seq_ae_loss` masks them out, so what padding holds changes neither
the loss nor the gradients. The caller cuts windows (e.g. 100 frames) or passes utterances.
"""
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from speechkit.errors import SpeechkitError
from speechkit.nn.registry import MODELS

TARGETS = ("frames", "delta")


def reverse_padded(x, lengths):
    """x (B, T, D) -> out[b, s] = x[b, len_b - 1 - s] for s < len_b; later steps repeat
    x[b, 0] (real data, never padding). Reversing twice gives back the valid steps."""
    steps = torch.arange(x.shape[1], device=x.device)
    idx = (lengths.to(x.device)[:, None] - 1 - steps[None, :]).clamp(min=0)
    return torch.gather(x, 1, idx[:, :, None].expand(-1, -1, x.shape[2]))


def step_mask(lengths, steps):
    """(B, steps) bool, True on real steps."""
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


@dataclass
class SeqAEOutput:
    recon: torch.Tensor    # (B, T, D) reconstructed frames in time order, zero on padding
    pred: torch.Tensor     # (B, T, D) decoder outputs in decoding (reverse) order
    target: torch.Tensor   # (B, T, D) what `pred` should be: reversed frames or their deltas
    mask: torch.Tensor     # (B, T) bool, real steps (the same in both orders)


@MODELS.register("lstm_seq_ae")
class LSTMSeqAE(nn.Module):
    """Encoder LSTM -> final state -> decoder LSTM cell reconstructing in reverse order."""

    def __init__(self, input_dim=39, hidden=256, layers=1, bidirectional=False, target="frames",
                 teacher_forcing=0.0, dropout=0.0):
        super().__init__()
        if target not in TARGETS:
            raise SpeechkitError(f"model.target '{target}': use one of {', '.join(TARGETS)}")
        if not 0.0 <= teacher_forcing <= 1.0:
            raise SpeechkitError(f"model.teacher_forcing is a probability, got {teacher_forcing}")
        self.input_dim, self.target, self.teacher_forcing = input_dim, target, teacher_forcing
        self.directions = 2 if bidirectional else 1
        self.encoder = nn.LSTM(input_dim, hidden, num_layers=layers, batch_first=True,
                               bidirectional=bidirectional, dropout=dropout if layers > 1 else 0.0)
        self.decoder = nn.LSTMCell(input_dim, hidden * self.directions)
        self.output = nn.Linear(hidden * self.directions, input_dim)

    def _check(self, x, lengths):
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise SpeechkitError(f"lstm_seq_ae expects (batch, frames, {self.input_dim}) input "
                                 f"(c0 dropped), got shape {tuple(x.shape)}; check the mcep order")
        lengths = torch.as_tensor(lengths, dtype=torch.long)
        if lengths.shape != (x.shape[0],) or lengths.min() < 1 or lengths.max() > x.shape[1]:
            raise SpeechkitError(f"lengths must be {x.shape[0]} values in 1..{x.shape[1]}, got "
                                 f"{lengths.tolist()}")
        return lengths

    def encode(self, x, lengths):
        """Final (h, c) of the top encoder layer, directions concatenated: (B, H·dirs) each."""
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, c) = self.encoder(packed)

        def top(state):  # (layers·dirs, B, H) -> (B, dirs·H)
            return state[-self.directions:].transpose(0, 1).reshape(x.shape[0], -1)
        return top(h), top(c)

    def forward(self, x, lengths, teacher_forcing=None):
        """x (B, T, D), lengths (B,) -> SeqAEOutput. `teacher_forcing` overrides the model's
        probability (per step, in training mode only) of feeding the true previous frame."""
        lengths = self._check(x, lengths)
        ratio = self.teacher_forcing if teacher_forcing is None else teacher_forcing
        reversed_x = reverse_padded(x, lengths)
        h, c = self.encode(x, lengths)
        preds, frames = [], []
        for s in range(x.shape[1]):
            if s > 0:
                forced = self.training and ratio > 0 and bool(torch.rand(()) < ratio)
                fed = reversed_x[:, s - 1] if forced else frames[-1]
                h, c = self.decoder(fed, (h, c))
            out = self.output(h)
            preds.append(out)
            frames.append(fed + out if self.target == "delta" and s > 0 else out)
        pred = torch.stack(preds, dim=1)
        mask = step_mask(lengths.to(x.device), x.shape[1])
        recon = reverse_padded(torch.stack(frames, dim=1), lengths)
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        recon = torch.where(mask[:, :, None], recon, zero)
        return SeqAEOutput(recon, pred, self._targets(reversed_x), mask)

    def _targets(self, reversed_x):
        if self.target == "frames":
            return reversed_x
        return torch.cat([reversed_x[:, :1], reversed_x[:, 1:] - reversed_x[:, :-1]], dim=1)


@dataclass
class SeqAELoss:
    loss: torch.Tensor       # scalar: weighted mean over real steps of the per-step error
    per_step: torch.Tensor   # (B, T) squared error summed over dims, 0 on padding


def seq_ae_loss(out, step_weights=None):
    """Squared error of a SeqAEOutput, masked to real steps, weighted mean over steps.

    `step_weights` (one tensor, (T,) or (B, T), e.g. torch.arange(1, T+1).sqrt()) weights the
    decoding steps: index 0 is the first decoded step, i.e. the last frame.
    """
    err = ((out.pred - out.target) ** 2).sum(-1)
    zero = torch.zeros((), dtype=err.dtype, device=err.device)
    per_step = torch.where(out.mask, err, zero)  # where, not *: padding cannot leak NaN
    weights = out.mask.to(err.dtype)
    if step_weights is not None:
        step_weights = torch.as_tensor(step_weights, dtype=err.dtype, device=err.device)
        if step_weights.shape[-1] != err.shape[1] or step_weights.dim() > 2:
            raise SpeechkitError(f"step weights of shape {tuple(step_weights.shape)}: expected "
                                 f"({err.shape[1]},) or ({err.shape[0]}, {err.shape[1]})")
        weights = weights * step_weights
    return SeqAELoss(loss=(per_step * weights).sum() / weights.sum(), per_step=per_step)

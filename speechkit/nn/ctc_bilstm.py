"""Stacked BiLSTM acoustic model for CTC, with an optional 2x/4x conv time subsampling.

Padding never leaks into real frames: the conv layers see zeros beyond each utterance (what
they would pad with if it were alone) and the LSTMs run on packed sequences; so an utterance's
output does not depend on what it was batched with.
"""
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from speechkit.errors import SpeechkitError
from speechkit.nn.registry import MODELS
from speechkit.nn.specaug import SpecAugment
from speechkit.data.batch import lengths_to_mask


class ConvSubsample(nn.Module):
    """log2(factor) Conv1d layers of stride 2 over time; out length = ceil(length / 2) each."""

    def __init__(self, input_dim, channels, factor):
        super().__init__()
        if factor not in (1, 2, 4):
            raise SpeechkitError(f"model.subsample must be 1, 2 or 4, got {factor}")
        layers, dim = [], input_dim
        for _ in range({1: 0, 2: 1, 4: 2}[factor]):
            layers.append(nn.Conv1d(dim, channels, kernel_size=3, stride=2, padding=1))
            dim = channels
        self.layers = nn.ModuleList(layers)
        self.output_dim = dim

    @staticmethod
    def out_lengths(lengths, num_layers):
        for _ in range(num_layers):
            lengths = (lengths - 1) // 2 + 1
        return lengths

    def forward(self, x, lengths):
        """x: (N, T, D) -> (N, T', C), lengths'."""
        for conv in self.layers:
            x = x * lengths_to_mask(lengths, x.shape[1]).unsqueeze(-1)
            x = torch.relu(conv(x.transpose(1, 2))).transpose(1, 2)
            lengths = self.out_lengths(lengths, 1)
        return x * lengths_to_mask(lengths, x.shape[1]).unsqueeze(-1), lengths


@MODELS.register("ctc_bilstm")
class CTCBiLSTM(nn.Module):
    def __init__(self, input_dim, vocab_size, hidden=256, layers=3, dropout=0.2, subsample=1,
                 conv_channels=256, specaug=None):
        super().__init__()
        # specaug: None, or SpecAugment's options ({} for its defaults); active in training only.
        self.specaug = SpecAugment(**specaug) if specaug is not None else None
        self.subsample = ConvSubsample(input_dim, conv_channels, subsample)
        self.lstm = nn.LSTM(self.subsample.output_dim, hidden, num_layers=layers,
                            bidirectional=True, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(2 * hidden, vocab_size)

    def output_lengths(self, lengths):
        return ConvSubsample.out_lengths(lengths, len(self.subsample.layers))

    def forward(self, feats, lengths):
        """(N, T, D), (N,) -> log-probs (N, T', vocab), lengths (N,)."""
        if self.specaug is not None:
            feats = self.specaug(feats, lengths)
        x, lengths = self.subsample(feats, lengths)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        x, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=x.shape[1])
        return torch.log_softmax(self.output(self.dropout(x)), dim=-1), lengths

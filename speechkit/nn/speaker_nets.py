"""Base networks of the siamese speaker embeddings (Lukic et al. 2016/2017, stdm/ZHAW_deep_voice).

Both take fixed-length segments (batch, frames, mel bins) and return logits over the training
speakers (n of them); the caller applies softmax (for the pairwise KL loss) or log_softmax /
cross-entropy (the d-vector baseline). `embed(x, layer)` returns one layer's output instead:
the embedding for verification and clustering (the original clusters a hidden layer, not the
softmax). An utterance's embedding is the mean over its segments; that is the caller's job.

speaker_cnn (Lukic 2016): conv 32 4x4 -> ReLU -> BN -> max-pool 4x4 stride 2, conv 64 4x4 -> ReLU
-> BN -> max-pool, dense 10n (ReLU, BN, dropout 0.5), dense 5n (ReLU), dense n. The input is the
(mel, frames) image, valid convolutions, as in the original's Lasagne code.

speaker_blstm (Lukic 2017): BLSTM 256 -> dropout 0.5 -> BLSTM 256 -> dense 10n -> dropout 0.25
-> dense 5n -> dense n. The original (Keras) keeps the second BLSTM's last outputs and uses linear
dense layers; here the second BLSTM's outputs are averaged over time by default (pool="last"
gives the original) and `activation` can put a ReLU after the hidden dense layers.
"""
from abc import ABC, abstractmethod

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from speechkit.errors import SpeechkitError
from speechkit.nn.registry import MODELS


def _dense_units(units, num_speakers):
    """The two hidden dense sizes: 10n and 5n unless the config says otherwise."""
    if units is None:
        return 10 * num_speakers, 5 * num_speakers
    if len(units) != 2:
        raise SpeechkitError(f"model.dense_units must list two sizes (10n and 5n in the original), "
                             f"got {list(units)}")
    return tuple(int(u) for u in units)


class EmbeddingNet(nn.Module, ABC):
    """Shared embed/forward over `stages(x)`, which yields (layer name, output) in order."""

    layers = ()
    default_layer = None

    @abstractmethod
    def stages(self, x, lengths=None):
        """(layer name, output) pairs, input to logits."""

    def forward(self, x, lengths=None):
        """Logits (batch, num_speakers)."""
        for _, out in self.stages(x, lengths):
            pass
        return out

    def embed(self, x, layer=None, lengths=None):
        """Output of `layer` (one of self.layers; "softmax" gives probabilities)."""
        layer = layer or self.default_layer
        if layer not in self.layers:
            raise SpeechkitError(f"{type(self).__name__}: unknown embedding layer '{layer}'; "
                                 f"choose one of {', '.join(self.layers)}")
        if layer == "softmax":
            return torch.softmax(self(x, lengths), dim=-1)
        for name, out in self.stages(x, lengths):
            if name == layer:
                return out
        raise AssertionError(f"stage {layer} never reached")  # layers and stages disagree


def _activation(name):
    if name in (None, "none", "linear"):
        return nn.Identity()
    if name == "relu":
        return nn.ReLU()
    raise SpeechkitError(f"model.activation '{name}' is not one of none, relu")


@MODELS.register("speaker_blstm")
class SpeakerBLSTM(EmbeddingNet):
    """Two BLSTMs, time pooling, three dense layers. Layers: blstm (the second BLSTM's output
    pooled over time), dense1, dense2, logits, softmax."""

    layers = ("blstm", "dense1", "dense2", "logits", "softmax")
    default_layer = "blstm"

    def __init__(self, input_dim, num_speakers, hidden=256, dropout=0.5, dense_units=None,
                 dense_dropout=0.25, activation="none", pool="mean"):
        super().__init__()
        if pool not in ("mean", "last"):
            raise SpeechkitError(f"model.pool '{pool}' is not one of mean, last")
        self.pool = pool
        d1, d2 = _dense_units(dense_units, num_speakers)
        self.blstm1 = nn.LSTM(input_dim, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.blstm2 = nn.LSTM(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.dense1 = nn.Sequential(nn.Linear(2 * hidden, d1), _activation(activation))
        self.dense2 = nn.Sequential(nn.Dropout(dense_dropout), nn.Linear(d1, d2),
                                    _activation(activation))
        self.out = nn.Linear(d2, num_speakers)

    def _run(self, lstm, x, lengths):
        if lengths is None:
            return lstm(x)[0]
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(lstm(packed)[0], batch_first=True, total_length=x.shape[1])[0]

    def _pool(self, h, lengths):
        """Mean over valid frames, or (pool="last") the forward direction's last valid output
        and the backward direction's first, which is what Keras' Bidirectional returns."""
        batch, frames, _ = h.shape
        if lengths is None:
            lengths = torch.full((batch,), frames, device=h.device)
        lengths = lengths.to(h.device)
        if self.pool == "mean":
            mask = torch.arange(frames, device=h.device)[None, :] < lengths[:, None]
            return (h * mask[..., None]).sum(1) / lengths[:, None].to(h.dtype)
        half = h.shape[-1] // 2
        last = h[torch.arange(batch, device=h.device), lengths - 1, :half]
        return torch.cat([last, h[:, 0, half:]], dim=-1)

    def stages(self, x, lengths=None):
        h = self.dropout(self._run(self.blstm1, x, lengths))
        h = self._pool(self._run(self.blstm2, h, lengths), lengths)
        yield "blstm", h
        h = self.dense1(h)
        yield "dense1", h
        h = self.dense2(h)
        yield "dense2", h
        yield "logits", self.out(h)


def _out_size(size, kernel, pool, stride):
    """Length after a valid convolution and a max-pool."""
    return (size - kernel + 1 - pool) // stride + 1


@MODELS.register("speaker_cnn")
class SpeakerCNN(EmbeddingNet):
    """Two conv blocks on the (mel, frames) image, three dense layers. Layers: dense1 (the
    first dense layer's ReLU output, before its BN: the original's clustering layer), dense2,
    logits, softmax. `frames` is the segment length the dense layer is sized for."""

    layers = ("dense1", "dense2", "logits", "softmax")
    default_layer = "dense1"

    def __init__(self, input_dim, num_speakers, frames=100, channels=(32, 64), kernel=4, pool=4,
                 pool_stride=2, dense_units=None, dropout=0.5):
        super().__init__()
        d1, d2 = _dense_units(dense_units, num_speakers)
        self.frames = frames
        blocks, cin, height, width = [], 1, input_dim, frames
        for cout in channels:
            blocks += [nn.Conv2d(cin, cout, kernel), nn.ReLU(), nn.BatchNorm2d(cout),
                       nn.MaxPool2d(pool, stride=pool_stride)]
            height = _out_size(height, kernel, pool, pool_stride)
            width = _out_size(width, kernel, pool, pool_stride)
            cin = cout
        if height < 1 or width < 1:
            raise SpeechkitError(
                f"speaker_cnn: {input_dim} mel bins x {frames} frames is too small for "
                f"{len(channels)} conv {kernel}x{kernel} + max-pool {pool} blocks; use longer "
                f"segments (model.frames), more mel bins, or fewer/smaller blocks")
        self.convs = nn.Sequential(*blocks)
        self.dense1 = nn.Sequential(nn.Linear(cin * height * width, d1), nn.ReLU())
        self.dense2 = nn.Sequential(nn.BatchNorm1d(d1), nn.Dropout(dropout), nn.Linear(d1, d2),
                                    nn.ReLU())
        self.out = nn.Linear(d2, num_speakers)

    def stages(self, x, lengths=None):
        if x.shape[1] != self.frames:
            raise SpeechkitError(f"speaker_cnn was built for {self.frames}-frame segments, got "
                                 f"{x.shape[1]}: set model.frames to the segment length")
        h = self.convs(x.transpose(1, 2).unsqueeze(1)).flatten(1)  # (batch, C * mel' * frames')
        h = self.dense1(h)
        yield "dense1", h
        h = self.dense2(h)
        yield "dense2", h
        yield "logits", self.out(h)

"""The emotion networks of Guizzo et al. (ICASSP 2020), with standard or multi-time-scale
convolution.

Input: (N, T, F) features (the authors': |STFT|^(2/3), 513 bins, z-normalised); output:
(N, classes) logits. One conv layer -> ReLU -> dense -> ReLU -> output, or two conv layers with
2x2 max pooling between (conv -> ReLU -> pool -> conv -> ReLU). The conv layers see
(N, channel, time, freq): the kernel and scale factors are (time, freq).

With `clip_frames` the network zero-pads or crops every input to that many frames and the dense
layer sees the whole flattened map, as the authors' fixed-length clips (its size, and so the
parameter count, grows with clip_frames: 86.5 M parameters for 94 frames x 513 bins). With
`pool_time: true` (or without clip_frames) the map is averaged over time first, which keeps the
dense layer at channels x bins inputs (about 1 M parameters); with clip_frames as well every
input is padded to the same length, so an utterance's output does not depend on its batch.
Without clip_frames any length works (inputs shorter than the kernels need are zero-padded;
padded frames count in the mean).
"""
import torch.nn.functional as F
from torch import nn

from speechkit.errors import SpeechkitError
from speechkit.nn.mts_conv import MultiscaleConv2d, conv_output_size
from speechkit.nn.registry import MODELS

CONVS = ("standard", "mts")
DEFAULT_SCALES = ((0.7, 1.0), (1.428, 1.0))
_MAX_SEARCH = 10000  # frames; the shortest input the layers accept is searched up to this


def conv_shape(conv, height, width):
    """(channels, time, freq) after a Conv2d or MultiscaleConv2d, or None if the input is too
    small."""
    if isinstance(conv, MultiscaleConv2d):
        return conv.output_shape(height, width)
    pads = (conv.padding,) * 2 if isinstance(conv.padding, str) else conv.padding
    sizes = [conv_output_size(n, k, s, p, d) for n, k, s, p, d in zip(
        (height, width), conv.kernel_size, conv.stride, pads, conv.dilation)]
    return (conv.out_channels, *sizes) if min(sizes) >= 1 else None


@MODELS.register("emotion_cnn")
class EmotionCNN(nn.Module):
    """One or two (standard or MTS) conv layers, then dense -> ReLU -> logits."""

    def __init__(self, input_dim, num_classes, conv="standard", layers=1, channels=10,
                 kernel=(10, 5), dense=200, scale_factors=DEFAULT_SCALES, stretch_penalty=0.0,
                 output_type="pooled_map", training_mode="train_and_eval", faithful=False,
                 clip_frames=None, pool_time=False, dropout=0.0):
        super().__init__()
        if conv not in CONVS:
            raise SpeechkitError(f"model option conv '{conv}' is not one of: {', '.join(CONVS)}")
        if layers not in (1, 2):
            raise SpeechkitError(f"model option layers {layers!r}: use 1 or 2")
        if len(kernel) != 2:
            raise SpeechkitError(f"model option kernel {kernel!r}: give [time, freq]")
        mts = dict(scale_factors=scale_factors, stretch_penalty=stretch_penalty,
                   output_type=output_type, training_mode=training_mode, faithful=faithful)
        convs, cin = [], 1
        for _ in range(layers):
            if conv == "mts":
                layer = MultiscaleConv2d(cin, channels, tuple(kernel), **mts)
            else:
                layer = nn.Conv2d(cin, channels, tuple(kernel))
            convs.append(layer)
            cin = 2 * channels if conv == "mts" and output_type == "interleave_chdim" else channels
        self.convs = nn.ModuleList(convs)
        self.pool = nn.MaxPool2d(2)
        self.clip_frames = clip_frames
        self.flatten_time = bool(clip_frames) and not pool_time
        self.min_frames = self._min_frames(input_dim)
        if clip_frames is not None and clip_frames < self.min_frames:
            raise SpeechkitError(f"model option clip_frames {clip_frames} is too short for the "
                                 f"kernels and scale factors: use at least {self.min_frames}")
        cout, time, freq = self._shape(clip_frames or self.min_frames, input_dim)
        flat = cout * freq * (time if self.flatten_time else 1)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(flat, dense), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(dense, num_classes))

    def _shape(self, frames, bins):
        """(channels, time, freq) of the last conv layer's output, or None if too small."""
        shape = (1, frames, bins)
        for i, conv in enumerate(self.convs):
            if i:
                shape = (shape[0], shape[1] // 2, shape[2] // 2)
            shape = conv_shape(conv, *shape[1:]) if min(shape[1:]) >= 1 else None
            if shape is None:
                return None
        return shape

    def _min_frames(self, input_dim):
        for frames in range(1, _MAX_SEARCH):
            if self._shape(frames, input_dim) is not None:
                return frames
        raise SpeechkitError(f"model input_dim {input_dim} (feature bins) is too small for the "
                             "kernels and scale factors; use a smaller kernel or more bins")

    def _fit_time(self, feats):
        """(N, T, F) padded or cropped to clip_frames, or padded to the shortest usable T."""
        frames = feats.shape[1]
        target = self.clip_frames or max(frames, self.min_frames)
        if frames > target:
            return feats[:, :target]
        return F.pad(feats, (0, 0, 0, target - frames)) if frames < target else feats

    def forward(self, feats, lengths=None):
        """(N, T, F) features -> (N, classes) logits (lengths are unused: see the module doc)."""
        x = self._fit_time(feats).unsqueeze(1)
        for i, conv in enumerate(self.convs):
            x = F.relu(conv(self.pool(x) if i else x))
        x = x.flatten(1) if self.flatten_time else x.mean(dim=2).flatten(1)
        return self.classifier(x)

    def mts_layers(self):
        """name -> MultiscaleConv2d, in order (empty for standard convolution)."""
        return {f"conv{i + 1}": c for i, c in enumerate(self.convs)
                if isinstance(c, MultiscaleConv2d)}

    def stretch_percs(self):
        """name -> share of outputs won by each branch (original first) in the last forward."""
        return {name: layer.get_stretch_percs() for name, layer in self.mts_layers().items()}

    def update_kernels(self):
        """The authors' per-epoch kernel averaging on every MTS layer (an epoch-end hook; it
        changes nothing unless the layers are faithful). Returns whether any weight changed."""
        changed = [layer.update_kernels() for layer in self.mts_layers().values()]
        return any(changed)


def count_parameters(model):
    """Trainable parameters of a module."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


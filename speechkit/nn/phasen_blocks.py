"""PHASEN's building blocks (Yin et al., AAAI 2020): stems, FTB, two-stream blocks, heads.

Every tensor is laid out (batch, channels, frames, bins). Kernel sizes are written as in the
paper, time x frequency: "25x1" spans 25 frames of one bin (IMLHF/PHASEN-PyTorch agrees, in its
[F, T] layout as [1, 25]).

Padding: every block takes `fmask`, a (batch, frames) float mask of real frames or None. Layer
outputs are zeroed on padded frames before anything mixes frames (convs with a time extent, the
FTB's 1-D conv, global layer norm statistics, the BiLSTM), so an utterance's output does not
depend on what it was batched with (in eval mode; in training, batch norm statistics see the
zeros of padded frames, never their content).
"""
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def masked(x, fmask):
    """x (N, C, T, F) with padded frames zeroed; fmask (N, T) or None."""
    return x if fmask is None else x * fmask[:, None, :, None]


class GlobalLayerNorm(nn.Module):
    """Conv-TasNet's gLN: one mean and variance per utterance over (channels, frames, bins),
    over real frames only, then a per-channel affine."""

    def __init__(self, channels, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x, fmask=None):
        if fmask is None:
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            var = (x - mean).pow(2).mean(dim=(1, 2, 3), keepdim=True)
        else:
            m = fmask[:, None, :, None]
            count = fmask.sum(1).clamp(min=1)[:, None, None, None] * x.shape[1] * x.shape[3]
            mean = (x * m).sum(dim=(1, 2, 3), keepdim=True) / count
            var = ((x - mean).pow(2) * m).sum(dim=(1, 2, 3), keepdim=True) / count
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


class ConvNorm(nn.Module):
    """Conv2d with "same" padding, then batch norm ("bn"), global layer norm ("gln") or none,
    then ReLU if `relu`; padded frames zeroed on the way out."""

    def __init__(self, cin, cout, kernel, norm="bn", relu=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=(kernel[0] // 2, kernel[1] // 2))
        self.norm_kind = norm
        self.norm = {"bn": lambda: nn.BatchNorm2d(cout), "gln": lambda: GlobalLayerNorm(cout),
                     None: lambda: None}[norm]()
        self.relu = relu

    def forward(self, x, fmask=None):
        x = self.conv(x)
        if self.norm_kind == "gln":
            x = self.norm(x, fmask)
        elif self.norm is not None:
            x = self.norm(x)
        if self.relu:
            x = torch.relu(x)
        return masked(x, fmask)


class FTB(nn.Module):
    """Frequency transformation block.

    Attention: conv1x1 Ca -> Cr (BN, ReLU), reshape to (Cr*F) x T, conv1d kernel 9 (BN, ReLU).
    `attention="tf"` makes it F maps per frame, a (1, T, F) map shared by the channels
    (IMLHF/PHASEN-PyTorch); `"channel"` makes it Ca per frame, a (Ca, T, 1) map shared by the
    bins (huyanxin/phasen). Then Freq-FC (an F x F matrix along frequency at every frame, no
    bias), concatenation with the input and conv1x1 2Ca -> Ca (BN, ReLU).
    """

    def __init__(self, channels, bins, reduced=5, kernel=9, attention="tf"):
        super().__init__()
        self.attention = attention
        self.reduce = ConvNorm(channels, reduced, (1, 1))
        att_out = bins if attention == "tf" else channels
        self.att_conv = nn.Conv1d(reduced * bins, att_out, kernel, padding=kernel // 2)
        self.att_norm = nn.BatchNorm1d(att_out)
        self.freq_fc = nn.Linear(bins, bins, bias=False)
        self.out = ConvNorm(2 * channels, channels, (1, 1))

    def attention_map(self, x, fmask=None):
        """(N, 1, T, F) for "tf", (N, Ca, T, 1) for "channel"."""
        a = self.reduce(x, fmask)                              # N, Cr, T, F
        n, cr, t, f = a.shape
        a = a.permute(0, 1, 3, 2).reshape(n, cr * f, t)        # N, Cr*F, T
        a = torch.relu(self.att_norm(self.att_conv(a)))        # N, F|Ca, T
        return a.transpose(1, 2).unsqueeze(1) if self.attention == "tf" else a.unsqueeze(-1)

    def forward(self, x, fmask=None):
        transformed = self.freq_fc(x * self.attention_map(x, fmask))
        return self.out(torch.cat([x, transformed], dim=1), fmask)


class TwoStreamBlock(nn.Module):
    """One TSB. Stream A: FTB, 5x5, 25x1, 5x5 (BN, ReLU each), FTB; with use_ftb false each FTB
    is a plain 5x5 conv (BN, ReLU). Stream P: 5x3 and 25x1 convs, each with global layer norm,
    no activation. Then information communication from the pre-exchange tensors:
    A' = A * tanh(conv1x1(P)), P' = P * tanh(conv1x1(A)), unless `communication` is off.
    With phase=False the block is stream A only."""

    def __init__(self, ca, cp, bins, use_ftb=True, communication=True, phase=True,
                 ftb_attention="tf", ftb_reduced=5, ftb_kernel=9):
        super().__init__()

        def ftb():
            if use_ftb:
                return FTB(ca, bins, ftb_reduced, ftb_kernel, ftb_attention)
            return ConvNorm(ca, ca, (5, 5))

        self.amp = nn.ModuleList([ftb(), ConvNorm(ca, ca, (5, 5)), ConvNorm(ca, ca, (25, 1)),
                                  ConvNorm(ca, ca, (5, 5)), ftb()])
        self.phase = None
        self.communication = phase and communication
        if phase:
            self.phase = nn.ModuleList([ConvNorm(cp, cp, (5, 3), "gln", relu=False),
                                        ConvNorm(cp, cp, (25, 1), "gln", relu=False)])
        if self.communication:
            self.p_to_a = nn.Conv2d(cp, ca, 1)
            self.a_to_p = nn.Conv2d(ca, cp, 1)

    def forward(self, a, p, fmask=None):
        for layer in self.amp:
            a = layer(a, fmask)
        if self.phase is None:
            return a, None
        for layer in self.phase:
            p = layer(p, fmask)
        if self.communication:
            a, p = a * torch.tanh(self.p_to_a(p)), p * torch.tanh(self.a_to_p(a))
        return a, p


class Stems(nn.Module):
    """Stream A: 1x7 then 7x1 convs to Ca (BN, ReLU); stream P: 5x3 then 25x1 convs to Cp (no
    norm, no activation, as in the paper's figure and IMLHF/PHASEN-PyTorch)."""

    def __init__(self, ca, cp, phase=True):
        super().__init__()
        self.amp = nn.ModuleList([ConvNorm(2, ca, (1, 7)), ConvNorm(ca, ca, (7, 1))])
        self.phase = None
        if phase:
            self.phase = nn.ModuleList([ConvNorm(2, cp, (5, 3), None, relu=False),
                                        ConvNorm(cp, cp, (25, 1), None, relu=False)])

    def forward(self, x, fmask=None):
        a = p = masked(x, fmask)
        for layer in self.amp:
            a = layer(a, fmask)
        if self.phase is None:
            return a, None
        for layer in self.phase:
            p = layer(p, fmask)
        return a, p


class AmplitudeHead(nn.Module):
    """conv1x1 Ca -> 8, 8F features per frame, BiLSTM, FC (ReLU), FC (ReLU), FC to F (sigmoid):
    the magnitude mask (N, T, F)."""

    def __init__(self, ca, bins, lstm=600, fc=600, channels=8):
        super().__init__()
        self.reduce = nn.Conv2d(ca, channels, 1)
        self.lstm = nn.LSTM(channels * bins, lstm, batch_first=True, bidirectional=True)
        self.fc = nn.Sequential(nn.Linear(2 * lstm, fc), nn.ReLU(), nn.Linear(fc, fc), nn.ReLU(),
                                nn.Linear(fc, bins), nn.Sigmoid())

    def forward(self, a, frame_lengths=None):
        x = self.reduce(a)                                     # N, 8, T, F
        n, c, t, f = x.shape
        x = x.permute(0, 2, 1, 3).reshape(n, t, c * f)
        if frame_lengths is None:
            x = self.lstm(x)[0]
        else:
            packed = pack_padded_sequence(x, frame_lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            x = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=t)[0]
        return self.fc(x)


def unit_phase(re, im, eps=1e-7):
    """(re, im) / |(re, im)| as a complex tensor, with eps inside the root: finite gradients
    at 0 (where the output is 0), magnitude 1 - O(eps^2/|x|^2) elsewhere. IMLHF/PHASEN-PyTorch
    found eps 1e-7 better than 1e-5 (PESQ 2.988 vs 2.935)."""
    scale = torch.rsqrt(re * re + im * im + eps * eps)
    return torch.complex(re * scale, im * scale)


class PhaseHead(nn.Module):
    """conv1x1 Cp -> 2 (real, imaginary), normalised to unit magnitude: (N, T, F) complex."""

    def __init__(self, cp, eps=1e-7):
        super().__init__()
        self.proj = nn.Conv2d(cp, 2, 1)
        self.eps = eps

    def forward(self, p):
        x = self.proj(p)
        return unit_phase(x[:, 0], x[:, 1], self.eps)

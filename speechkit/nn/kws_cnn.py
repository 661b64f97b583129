"""A small CNN keyword classifier over a selectable frontend (the scale of Wang et al.'s).

Input: (N, T, bands) mel energies of fixed-length clips (the task pads or crops to 1 s), so
no masking is needed; output: (N, classes) logits.
"""
from torch import nn

from speechkit.nn.frontends import build_frontend
from speechkit.nn.registry import MODELS


def conv_block(cin, cout, pool):
    layers = [nn.Conv2d(cin, cout, kernel_size=3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(pool)) if pool else nn.Sequential(*layers)


@MODELS.register("kws_cnn")
class KWSCNN(nn.Module):
    """Conv blocks (2x2 pooling after all but the last), average over time, then two fully
    connected layers over channels x frequency: frequency layout matters for words."""

    def __init__(self, input_dim, num_classes, frontend="logmel", channels=(32, 64, 64),
                 hidden=128, dropout=0.2, pcen=None):
        super().__init__()
        self.frontend = build_frontend(frontend, input_dim, **(pcen or {}))
        self.norm = nn.BatchNorm1d(input_dim)  # per band, the same after every frontend
        blocks, cin = [], 1
        for i, cout in enumerate(channels):
            blocks.append(conv_block(cin, cout, (2, 2) if i < len(channels) - 1 else None))
            cin = cout
        self.convs = nn.Sequential(*blocks)
        bands = input_dim // 2 ** (len(channels) - 1)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(cin * bands, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, num_classes))

    def features(self, energies):
        """Frontend output, normalised per band: (N, T, bands)."""
        x = self.frontend(energies)
        return self.norm(x.transpose(1, 2)).transpose(1, 2)

    def forward(self, energies, lengths=None):
        x = self.convs(self.features(energies).unsqueeze(1))  # (N, C, T', F')
        return self.classifier(x.mean(dim=2).flatten(1))

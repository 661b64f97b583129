#!/usr/bin/env python3
"""Pictures of a trained PHASEN: spectrograms of one test utterance (noisy, enhanced, clean) and
the learned frequency transformation matrix of every FTB.

    local/plot_enhance.py --model exp/phasen_seed1 --data data/test \\
        --decode exp/phasen_seed1/decode_test [--utt UTT] exp/spectrograms.png exp/ftb.png

--utt defaults to the first utterance of the lowest SNR in <decode>/utt2snr. For each FTB
matrix W (rows: output bins, columns: input bins) it prints a harmonicity ratio: the mean |W| on
the lines j = k*i and i = k*j (k = 2, 3; the correlations between a harmonic and its multiples
that the paper's figure shows) over the mean |W| off the diagonal, for the trained weights and
for the same network at initialisation (about 1: no structure). A ratio well above the
initialisation's says the FTB learned harmonic correlations.
"""
import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from speechkit.infer.model_dir import ModelDir  # noqa: E402
from speechkit.io import AudioTable, read_dict  # noqa: E402
from speechkit.nn.registry import build_model  # noqa: E402

RATE = 16000


def log_spec(wav, n_fft=512, hop=128):
    spec = torch.stft(torch.as_tensor(wav, dtype=torch.float32), n_fft, hop,
                      window=torch.hann_window(n_fft), return_complex=True).abs()
    return 20 * np.log10(spec.numpy() + 1e-5)


def plot_spectrograms(utt, wavs, out):
    fig, axes = plt.subplots(len(wavs), 1, figsize=(9, 2.4 * len(wavs)), sharex=True)
    for ax, (name, wav) in zip(axes, wavs.items()):
        spec = log_spec(wav)
        ax.imshow(spec, origin="lower", aspect="auto", cmap="magma", vmin=spec.max() - 80,
                  vmax=spec.max(), extent=(0, len(wav) / RATE, 0, RATE / 2000))
        ax.set_ylabel("kHz")
        ax.set_title(f"{utt}: {name}", fontsize=10)
    axes[-1].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def harmonic_mask(bins, low=4):
    """Bins (i, j) on j = k*i or i = k*j (k = 2, 3), both above `low`, and off-diagonal ones."""
    i, j = np.meshgrid(np.arange(bins), np.arange(bins), indexing="ij")
    on = np.zeros((bins, bins), bool)
    for k in (2, 3):
        on |= (np.abs(j - k * i) <= 1) | (np.abs(i - k * j) <= 1)
    valid = (i >= low) & (j >= low) & (np.abs(i - j) > 2)
    return on & valid, valid


def harmonicity(w):
    on, valid = harmonic_mask(w.shape[0])
    a = np.abs(w)
    return float(a[on].mean() / a[valid].mean())


def plot_ftb(trained, initial, out):
    names = list(trained)
    cols = 2
    rows = (len(names) + 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4 * rows), squeeze=False)
    lines = []
    for ax, name in zip(axes.flat, names):
        w = trained[name].numpy()
        ratio, ratio0 = harmonicity(w), harmonicity(initial[name].numpy())
        lines.append(f"{name}: harmonicity {ratio:.2f} (at initialisation {ratio0:.2f})")
        lim = np.percentile(np.abs(w), 99.5)
        ax.imshow(w, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim,
                  extent=(0, RATE / 2000, 0, RATE / 2000))
        ax.set_title(f"{name} (harmonicity {ratio:.2f})", fontsize=9)
        ax.set_xlabel("input kHz")
        ax.set_ylabel("output kHz")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=50)  # 257 x 257 noise-like matrices barely compress: keep the PNG small
    plt.close(fig)
    return lines


def pick_utt(decode):
    snr = read_dict(decode / "utt2snr")
    return min(snr, key=lambda u: (float(snr[u]), u))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="trained PHASEN experiment dir")
    ap.add_argument("--data", required=True, help="data dir of the noisy audio")
    ap.add_argument("--decode", required=True, help="the model's decode dir of that data")
    ap.add_argument("--utt", help="utterance to show (default: first of the lowest SNR)")
    ap.add_argument("spectrograms", help="output png: noisy / enhanced / clean")
    ap.add_argument("ftb", help="output png: the FTB matrices")
    args = ap.parse_args(argv)
    decode, data = Path(args.decode), Path(args.data)
    utt = args.utt or pick_utt(decode)
    wavs = {"noisy": AudioTable(data / "wav.scp")[utt][0],
            "enhanced": AudioTable(decode / "wav.scp")[utt][0],
            "clean": AudioTable(decode / "utt2clean")[utt][0]}
    plot_spectrograms(utt, wavs, args.spectrograms)
    md = ModelDir(args.model)
    trained = md.model.ftb_matrices()
    if not trained:
        print(f"{args.model}: no FTB (use_ftb is off); only the spectrograms", file=sys.stderr)
        return 0
    torch.manual_seed(md.config["train"]["seed"])
    initial = build_model(md.config["model"], 1, None).ftb_matrices()
    for line in plot_ftb(trained, initial, args.ftb):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

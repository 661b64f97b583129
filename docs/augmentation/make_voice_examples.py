"""Regenerate the listening samples and the spectrogram pictures of docs/augmentation/voice.md.

  tools/venv/bin/python docs/augmentation/make_voice_examples.py

One short utterance of the embedded corpus (`speechkit synth-corpus`, written to a temporary
dir) goes through `speechkit wav-voice` once per effect of the page, and is synthesised again
with the speaker's own eSpeak variant (`synth-corpus --variant-jitter`); the wavs (16 kHz, 16-bit,
under 3 s so each stays under 100 KB), voice_spectrograms.png and variant_spectrograms.png are
written next to this file.
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
SPEECHKIT = [sys.executable, "-m", "speechkit.bin.main"]
MAX_SECONDS = 2.8  # 16-bit 16 kHz: 2.8 s is 90 KB
EXAMPLES = [  # file stem, wav-voice options, title
    ("voice_original", [], "original"),
    ("voice_warp0.88", ["--warp", "0.88"], "warp 0.88 (longer tract)"),
    ("voice_warp1.12", ["--warp", "1.12"], "warp 1.12 (shorter tract)"),
    ("voice_f0_plus4", ["--f0-shift", "4"], "F0 +4 semitones"),
    ("voice_tilt_minus3_eq", ["--tilt", "-3", "--eq-seed", "3", "--eq-db", "6"],
     "tilt -3 dB/oct + EQ"),
    ("voice_telephone", ["--band", "telephone"], "telephone band"),
]
VARIANTS = [  # file stem, synth-corpus options, title
    ("voice_original", [], "preset variant"),
    ("variant_jitter0.5", ["--variant-jitter", "0.5"], "own variant, jitter 0.5"),
    ("variant_jitter1", ["--variant-jitter", "1"], "own variant, jitter 1"),
]


def utterance(workdir, path, options=()):
    """The first utterance of a one-speaker embedded corpus, cut to MAX_SECONDS, into path."""
    corpus = workdir / path.stem
    subprocess.run(SPEECHKIT + ["synth-corpus", "--profile", "sentences", "--num-speakers", "1",
                                "--dev-speakers", "0", "--test-speakers", "0",
                                "--utts-per-speaker", "1", "--nj", "1", *options, str(corpus)],
                   check=True)
    wav, rate = sf.read(str(next((corpus / "wav").glob("*.wav"))))
    assert rate == 16000, rate
    sf.write(str(path), wav[:int(MAX_SECONDS * rate)], rate, subtype="PCM_16")
    return path


def spectrograms(paths, titles, out, rows):
    """Log spectrograms in a rows x 3 grid, on one colour scale (few colours keep the PNG small)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.signal import spectrogram
    fig, axes = plt.subplots(rows, 3, figsize=(9, 2.3 * rows), sharex=True, sharey=True,
                             squeeze=False)
    for ax, path, title in zip(axes.flat, paths, titles):
        wav, rate = sf.read(str(path))
        freqs, times, power = spectrogram(wav, rate, nperseg=512, noverlap=384)
        ax.pcolormesh(times, freqs / 1000, 10 * np.log10(power + 1e-12), vmin=-100, vmax=-40,
                      cmap=plt.get_cmap("magma", 16), shading="auto")
        ax.set_title(title, fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("kHz", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=72)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        source = utterance(Path(tmp), Path(tmp) / "utt.wav")
        paths = []
        for stem, options, _ in EXAMPLES:
            path = HERE / f"{stem}.wav"
            if options:
                subprocess.run(SPEECHKIT + ["wav-voice"] + options + [str(source), str(path)],
                               check=True)
            else:
                shutil.copy(source, path)
            paths.append(path)
        spectrograms(paths, [title for _, _, title in EXAMPLES], HERE / "voice_spectrograms.png", 2)
        paths = [utterance(Path(tmp), HERE / f"{stem}.wav", options) if options
                 else HERE / f"{stem}.wav" for stem, options, _ in VARIANTS]
    spectrograms(paths, [title for _, _, title in VARIANTS], HERE / "variant_spectrograms.png", 1)


if __name__ == "__main__":
    main()

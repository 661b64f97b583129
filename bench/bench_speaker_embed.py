"""Benchmark: the real-time factor of speaker-embedding extraction, features against network.

  PYTHONPATH=. python bench/bench_speaker_embed.py [--seconds 60] [--threads 1] [--repeat 3]

Times, on the same synthetic audio (utterances of 2-4 s, 16 kHz), in this process:

  features   128-band Kaldi fbank (speechkit's front-end, as the recipe's conf/fbank.yaml)
  network    speechkit.tasks.speaker.embed_utterances: segments with half-segment hop, one
             layer's output averaged per utterance, for the recipe's networks (random weights,
             60 training speakers) and the original sizes (CNN 32/64 channels with overlapping
             pools, BLSTM 256)

RTF is seconds of compute per second of audio; "x features" is the network's time over the
feature extraction's, the reference measured in the same run. Best of --repeat, interleaved.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402  (thread limits before numpy and torch load)
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from speechkit.features.frontend import FRONTENDS  # noqa: E402
from speechkit.nn.speaker_nets import SpeakerBLSTM, SpeakerCNN  # noqa: E402
from speechkit.tasks.speaker import embed_utterances  # noqa: E402

SR = 16000
FBANK = {"sample_frequency": SR, "frame_length": 25, "frame_shift": 10, "num_mel_bins": 128,
         "low_freq": 20, "high_freq": 0, "use_energy": False, "dither": 0.0, "snip_edges": True}
SPEAKERS = 60
NETWORKS = {  # name: (network, segment frames, layer)
    "cnn (recipe)": (lambda: SpeakerCNN(128, SPEAKERS, frames=100, channels=(16, 32), pool_stride=4),
                     100, "dense1"),
    "cnn (original)": (lambda: SpeakerCNN(128, SPEAKERS, frames=100), 100, "dense1"),
    "blstm (recipe)": (lambda: SpeakerBLSTM(128, SPEAKERS, hidden=128), 40, "blstm"),
    "blstm (original)": (lambda: SpeakerBLSTM(128, SPEAKERS, hidden=256), 40, "blstm"),
}


def make_audio(seconds, seed=0):
    """Utterances of 2-4 s (harmonics with a moving pitch, in noise) adding up to `seconds`."""
    rng = np.random.default_rng(seed)
    wavs, total = [], 0.0
    while total < seconds:
        t = np.arange(int(rng.uniform(2.0, 4.0) * SR)) / SR
        f0 = rng.uniform(90, 250) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t))
        phase = 2 * np.pi * np.cumsum(f0) / SR
        wav = sum(0.2 / k * np.sin(k * phase) for k in range(1, 6))
        wavs.append((wav + 0.01 * rng.standard_normal(len(t))).astype(np.float32))
        total += len(t) / SR
    return wavs, total


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio to embed")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    wavs, total = make_audio(args.seconds)
    frontend = FRONTENDS.get("fbank")(FBANK)
    nets = {}
    for name, (build, frames, layer) in NETWORKS.items():
        torch.manual_seed(0)
        nets[name] = (build().eval(), frames, layer)
    best = {name: float("inf") for name in ["features", *nets]}
    for _ in range(args.repeat):
        seconds, feats = timed(lambda: [frontend(w, SR) for w in wavs])
        best["features"] = min(best["features"], seconds)
        for name, (net, frames, layer) in nets.items():
            seconds, _ = timed(lambda: embed_utterances(net, feats, frames, layer))
            best[name] = min(best[name], seconds)
    print(f"{len(wavs)} utterances, {total:.1f} s of audio, {args.threads} thread(s), best of "
          f"{args.repeat}")
    print(f"{'stage':>22} {'seconds':>8} {'RTF':>8} {'x features':>11}")
    for name, seconds in best.items():
        print(f"{name:>22} {seconds:>8.3f} {seconds / total:>8.4f} {seconds / best['features']:>10.2f}x")
    for name in nets:
        print(f"{'total ' + name:>22} {'':>8} {(best[name] + best['features']) / total:>8.4f}")


if __name__ == "__main__":
    main()

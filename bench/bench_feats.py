"""Benchmark log-mel features: speechkit compute-feats vs kaldi-native-fbank vs librosa, one run.

  python bench/bench_feats.py [--num-utts 200] [--num-mel-bins 80] [--wav-scp data/x/wav.scp]

Without --wav-scp it writes --num-utts utterances of 2-4 s of synthetic audio (tones in noise,
16 kHz 16-bit) to a temporary folder. Every method reads the same files and is timed in this
process on one thread (torch, BLAS and OpenMP are limited to 1, as a Kaldi job would run):

  speechkit       extract_table: AudioTable -> Kaldi fbank -> MatrixWriter (ark,scp on disk)
  speechkit-core  soundfile read + speechkit.features.kaldi.fbank, nothing written
  kaldi-native    soundfile read + kaldi_native_fbank.OnlineFbank (C++), nothing written
  librosa         soundfile read + librosa melspectrogram (same window/hop/FFT) + log

RTF is seconds of compute per second of audio; "x speechkit" is each time over speechkit's.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402  (the thread limits must be set before numpy loads)
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import kaldi_native_fbank as knf  # noqa: E402
import librosa  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

from speechkit.features import kaldi  # noqa: E402
from speechkit.features.extract import extract_table  # noqa: E402
from speechkit.features.frontend import FRONTENDS  # noqa: E402
from speechkit.io import AudioTable, read_table  # noqa: E402

SR = 16000


def make_corpus(folder, num_utts, seed=0):
    """num_utts wavs of 2-4 s: a few harmonic tones with a moving pitch, in noise."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(num_utts):
        t = np.arange(int(rng.uniform(2.0, 4.0) * SR)) / SR
        f0 = rng.uniform(90, 250) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t))
        phase = 2 * np.pi * np.cumsum(f0) / SR
        wav = sum(0.2 / k * np.sin(k * phase) for k in range(1, 6))
        wav = wav + rng.uniform(0.005, 0.05) * rng.standard_normal(len(t))
        path = folder / f"utt{i:04d}.wav"
        sf.write(str(path), (0.9 * wav / np.abs(wav).max()).astype(np.float32), SR, subtype="PCM_16")
        lines.append(f"utt{i:04d} {path}\n")
    (folder / "wav.scp").write_text("".join(lines))
    return folder / "wav.scp"


def read_all(paths):
    return [sf.read(p, dtype="float32")[0] for p in paths]


def run_speechkit(wav_scp, options, out):
    extract_table(FRONTENDS.get("fbank")(options), AudioTable(wav_scp, sample_rate=SR),
                  f"ark,scp:{out}/feats.ark,{out}/feats.scp")


def run_speechkit_core(paths, options):
    return [kaldi.fbank(wav, options) for wav in read_all(paths)]


def run_kaldi_native(paths, options):
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.mel_opts.num_bins = options["num_mel_bins"]
    out = []
    for wav in read_all(paths):
        fbank = knf.OnlineFbank(opts)
        fbank.accept_waveform(SR, wav * 32768)
        fbank.input_finished()
        out.append(np.stack([fbank.get_frame(i) for i in range(fbank.num_frames_ready)]))
    return out


def run_librosa(paths, options):
    return [np.log(np.maximum(librosa.feature.melspectrogram(
        y=wav, sr=SR, n_fft=512, win_length=400, hop_length=160, n_mels=options["num_mel_bins"],
        center=False, power=2.0), 1e-10)).T for wav in read_all(paths)]


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-utts", type=int, default=200)
    parser.add_argument("--num-mel-bins", type=int, default=80)
    parser.add_argument("--wav-scp", help="benchmark these recordings instead (16 kHz mono)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    options = {"num_mel_bins": args.num_mel_bins}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wav_scp = Path(args.wav_scp) if args.wav_scp else make_corpus(tmp, args.num_utts)
        paths = [value for _, value in read_table(wav_scp)]
        audio_s = sum(sf.info(p).duration for p in paths)
        for fn in (run_speechkit_core, run_kaldi_native, run_librosa):  # warm up: imports, caches
            fn(paths[:2], options)
        rows = [("speechkit", timed(run_speechkit, wav_scp, options, tmp)[0])]
        t_core, ours = timed(run_speechkit_core, paths, options)
        t_knf, theirs = timed(run_kaldi_native, paths, options)
        rows += [("speechkit-core", t_core), ("kaldi-native", t_knf),
                 ("librosa", timed(run_librosa, paths, options)[0])]
    diff = np.concatenate([np.abs(a - b).ravel() for a, b in zip(ours, theirs)])
    print(f"{len(paths)} utterances, {audio_s:.1f} s of audio, {args.num_mel_bins} mel bins, 1 thread")
    # Bins ~1e-10 below a frame's peak are under float32 resolution in both implementations.
    print(f"|speechkit - kaldi-native| log-fbank: max {diff.max():.1e}, "
          f"{np.mean(diff > 1e-3):.4%} of values > 1e-3")
    print(f"{'method':16s} {'seconds':>8s} {'RTF':>9s} {'x speechkit':>12s}")
    for name, seconds in rows:
        print(f"{name:16s} {seconds:8.3f} {seconds / audio_s:9.5f} {seconds / rows[0][1]:12.2f}")


if __name__ == "__main__":
    main()

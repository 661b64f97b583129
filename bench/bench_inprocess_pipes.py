"""Benchmark: reading a 3-way speed-perturbed data dir with wav.scp pipes run in-process
(speechkit.io.inprocess) against every pipe through bash (SPEECHKIT_NO_INPROCESS_PIPES=1).

It writes --utts tone utterances of --seconds each to a temporary data dir, runs `speechkit
perturb-data-dir speed-3way` on it (the original, 0.9 and 1.1 copies: 2 of every 3 entries are
`speechkit wav-speed ... - |` pipes), reads the result through AudioTable both ways, checks the
samples are identical, and prints both times and the ratio (bash / in-process).

    nice -n 19 tools/venv/bin/python bench/bench_inprocess_pipes.py [--utts 100] [--seconds 0.5]
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from speechkit.bin import perturb_data_dir
from speechkit.io import inprocess
from speechkit.io.audio import AudioTable

SR = 16000


def make_data_dir(root, utts, seconds):
    """A data dir of `utts` tones (one speaker per 10 utterances) with wavs under root/wav."""
    data, wavs = root / "train", root / "wav"
    data.mkdir()
    wavs.mkdir()
    t = np.arange(int(seconds * SR)) / SR
    rows = []
    for i in range(utts):
        spk, utt = f"spk{i // 10:03d}", f"spk{i // 10:03d}-u{i:04d}"
        sf.write(str(wavs / f"{utt}.wav"), 0.3 * np.sin(2 * np.pi * (200 + 5 * i) * t), SR,
                 subtype="PCM_16")
        rows.append((utt, spk))
    (data / "wav.scp").write_text("".join(f"{u} {wavs}/{u}.wav\n" for u, _ in rows))
    (data / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in rows))
    (data / "text").write_text("".join(f"{u} hello\n" for u, _ in rows))
    spk2utt = {}
    for u, s in rows:
        spk2utt.setdefault(s, []).append(u)
    (data / "spk2utt").write_text("".join(f"{s} {' '.join(us)}\n" for s, us in spk2utt.items()))
    return data


def read_all(wav_scp, in_process):
    """({key: samples}, seconds) reading every entry of wav_scp."""
    if in_process:
        os.environ.pop(inprocess.ENV_DISABLE, None)
    else:
        os.environ[inprocess.ENV_DISABLE] = "1"
    tic = time.perf_counter()
    out = {key: wav for key, wav, _ in AudioTable(wav_scp, sample_rate=SR).items()}
    return out, time.perf_counter() - tic


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utts", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    os.environ["PATH"] = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = make_data_dir(root, args.utts, args.seconds)
        if perturb_data_dir.main(["speed-3way", str(data), str(root / "train_sp")]) != 0:
            sys.exit("perturb-data-dir speed-3way failed")
        wav_scp = root / "train_sp" / "wav.scp"
        pipes = sum(line.rstrip().endswith("|") for line in wav_scp.read_text().splitlines())
        read_all(wav_scp, True)  # imports and file cache warm for both runs
        fast, fast_s = read_all(wav_scp, True)
        slow, slow_s = read_all(wav_scp, False)
    same = fast.keys() == slow.keys() and all(np.array_equal(fast[k], slow[k]) for k in fast)
    print(f"{len(fast)} entries ({pipes} wav-speed pipes), {args.seconds:g} s each")
    print(f"in-process: {fast_s:8.2f} s")
    print(f"bash:       {slow_s:8.2f} s")
    print(f"ratio bash / in-process: {slow_s / fast_s:.1f}x; identical samples: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()

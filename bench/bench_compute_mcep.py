"""Benchmark: the recipe's feature stage (egs/mcep/local/make_mcep.sh: parallel `speechkit
compute-mcep` jobs, matrix sp2mc) against a straightforward pyworld + pysptk script, in one run.

Both analyse the same wavs (synthetic voices of bench_mcep.py, written to a temporary data dir)
with dio + stonemask, cheaptrick, d4c, sp2mc (order 39, alpha 0.41) and code_aperiodicity, and
write mcep, lf0 and bap as ark/scp. The reference is what one writes first: one process, a loop
over the files, pysptk.sp2mc frame by frame, kaldiio's WriteHelper. The stage runs with --nj 1
and with --nj N (default: the CPUs this process may use). Printed: wall time, seconds of audio
per second, the ratio to the reference, and the largest differences of the three outputs.
Last, the ceiling: WORLD's dio, stonemask, cheaptrick and d4c alone (the same C code in both,
and nothing the stage can skip while keeping the numbers) in one process, then split over N
processes at once; the reference's time over the latter is the most any --nj N can reach here.

    PYTHONPATH=. python bench/bench_compute_mcep.py [--utts 48] [--seconds 3] [--nj N]
"""
import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mcep import synthetic_voice  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "egs" / "mcep"
ORDER, ALPHA, PERIOD, FFT = 39, 0.41, 5.0, 1024


def _quiet_import(name):
    """pyworld and pysptk warn about pkg_resources on import; not ours to fix."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        return importlib.import_module(name)


def world(path):
    """WORLD by the book on one file: (x, fs, f0, sp, ap) from dio, stonemask, cheaptrick, d4c."""
    pyworld = _quiet_import("pyworld")
    x, fs = sf.read(path, dtype="float64")
    f0, t = pyworld.dio(x, fs, f0_floor=71.0, f0_ceil=800.0, frame_period=PERIOD)
    f0 = pyworld.stonemask(x, f0, t, fs)
    return x, fs, f0, pyworld.cheaptrick(x, f0, t, fs, fft_size=FFT), \
        pyworld.d4c(x, f0, t, fs, fft_size=FFT)


def reference(wav_scp, out):
    """The straightforward script: every step by the book, one file after another."""
    kaldiio, pysptk, pyworld = (_quiet_import(n) for n in ("kaldiio", "pysptk", "pyworld"))
    specs = {n: f"ark,scp:{out}/{n}.ark,{out}/{n}.scp" for n in ("mcep", "lf0", "bap")}
    with kaldiio.WriteHelper(specs["mcep"]) as wm, kaldiio.WriteHelper(specs["lf0"]) as wl, \
            kaldiio.WriteHelper(specs["bap"]) as wb:
        for line in Path(wav_scp).read_text().splitlines():
            key, path = line.split()
            x, fs, f0, sp, ap = world(path)
            wm[key] = pysptk.sp2mc(sp, ORDER, ALPHA).astype(np.float32)
            lf0 = np.zeros((len(f0), 1))
            lf0[f0 > 0, 0] = np.log(f0[f0 > 0])
            wl[key] = lf0.astype(np.float32)
            wb[key] = pyworld.code_aperiodicity(ap, fs).astype(np.float32)


def world_only(paths):
    """The WORLD calls of `reference` alone, on the files in `paths`."""
    for path in paths:
        world(path)


def world_in_parallel(paths, nj):
    """world_only over nj processes at once, the files dealt round-robin."""
    from multiprocessing import get_context
    with get_context("fork").Pool(nj) as pool:
        pool.map(world_only, [paths[i::nj] for i in range(nj)])


def stage(data, nj, work):
    """egs/mcep/local/make_mcep.sh on the data dir, as the recipe runs it."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
               LC_ALL="C")
    cmd = ["bash", "local/make_mcep.sh", "--nj", str(nj), str(data), f"{work}/log",
           f"{work}/mcep"]
    subprocess.run(cmd, cwd=RECIPE, env=env, check=True, stdout=subprocess.DEVNULL)


def make_data(root, utts, seconds, sr=16000):
    data = root / "data"
    (root / "wav").mkdir(parents=True)
    data.mkdir()
    keys = [f"spk{i % 4}-{i:04d}" for i in range(utts)]
    for i, key in enumerate(keys):
        sf.write(str(root / "wav" / f"{key}.wav"), synthetic_voice(sr, seconds, i), sr,
                 subtype="PCM_16")
    keys.sort()
    (data / "wav.scp").write_text("".join(f"{k} {root}/wav/{k}.wav\n" for k in keys))
    (data / "utt2spk").write_text("".join(f"{k} {k.split('-')[0]}\n" for k in keys))
    spk = sorted({k.split("-")[0] for k in keys})
    (data / "spk2utt").write_text("".join(
        f"{s} {' '.join(k for k in keys if k.startswith(s + '-'))}\n" for s in spk))
    return data


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def max_diff(a_scp, b_scp):
    from speechkit.io import read_matrix_dict
    a, b = read_matrix_dict(f"scp:{a_scp}"), read_matrix_dict(f"scp:{b_scp}")
    assert a.keys() == b.keys(), "the two runs analysed different utterances"
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--utts", type=int, default=48, help="utterances (default %(default)s)")
    p.add_argument("--seconds", type=float, default=3.0, help="seconds each (default %(default)s)")
    p.add_argument("--nj", type=int, default=len(os.sched_getaffinity(0)),
                   help="parallel jobs of the stage (default: usable CPUs, %(default)s)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = make_data(root, args.utts, args.seconds)
        audio = args.utts * args.seconds
        (root / "ref").mkdir()
        t_ref = timed(lambda: reference(data / "wav.scp", root / "ref"))
        print(f"{args.utts} utterances, {audio:.0f} s of audio at 16 kHz; order {ORDER}, alpha "
              f"{ALPHA}, fft {FFT}, frame period {PERIOD} ms")
        print(f"reference (pyworld + pysptk, 1 process): {t_ref:7.1f} s  "
              f"{audio / t_ref:6.1f} s audio/s")
        for nj in sorted({1, args.nj}):
            t = timed(lambda: stage(data, nj, root / f"nj{nj}"))
            diffs = {n: max_diff(root / "ref" / f"{n}.scp", data / f"{f}.scp")
                     for n, f in (("mcep", "feats"), ("lf0", "lf0"), ("bap", "bap"))}
            print(f"make_mcep.sh --nj {nj}: {t:16.1f} s  {audio / t:6.1f} s audio/s  "
                  f"speed-up {t_ref / t:4.1f}x   max |diff| " +
                  ", ".join(f"{n} {v:.1e}" for n, v in diffs.items()))
            (data / "feats.yaml").unlink()  # so the next run recomputes
        paths = [line.split()[1] for line in (data / "wav.scp").read_text().splitlines()]
        t_one = timed(lambda: world_only(paths))
        t_all = timed(lambda: world_in_parallel(paths, args.nj))
        print(f"WORLD calls alone, 1 process: {t_one:9.1f} s; {args.nj} processes at once: "
              f"{t_all:.1f} s ({t_one / t_all:.2f}x on {args.nj} CPUs)")
        print(f"ceiling for --nj {args.nj} with the same numbers: {t_ref / t_all:.1f}x the "
              f"reference")


if __name__ == "__main__":
    main()

"""Score a decode dir of `speechkit mcep-reconstruct`: mel-cepstral distortion, variance ratios.

  speechkit score-mcep [--resynth] [--copy-system exp/copy] exp/train_vae_seed1/decode_test

MCD in dB, (10/ln 10)·sqrt(2·Σ_{d>=1}(c_d − ĉ_d)²) per frame, c0 excluded, averaged over the
frames of an utterance; reported as mean ± std over utterances (speechkit.metrics.mcd). A
reconstruction is compared frame by frame with its input; a conversion (decode.conf `mode
conversion`) with the target speaker's own rendering of the sentence after DTW. Scores, in
<dir>/scores.json and result.txt:

  mcd, mcd_std          mcep.scp against ref.scp
  mcd_gv, mcd_gv_std    mcep_gv.scp (after the GV post-filter) against ref.scp
  vr, vr_gv             variance ratio GV(output) / GV(reference) per dimension c1.., mean over
                        the dimensions (1: no over-smoothing; vr_per_dim has each)
  active_latents        (VAEs) latent dimensions with more than 0.01 nats of KL on this set
  mcd_resynth[_std]     with --resynth: the wavs of wav/ analysed again with the decode's
                        feats.yaml and compared the same way: what a listener gets. For the
                        copy system this is the floor WORLD itself sets.

Pictures (<dir>/images/, reconstructions only): c21 over time for one utterance (input,
output, output with GV), a scatter of two coefficients (input vs output frames), and with
--copy-system the spectrograms of the copy system's analysis-synthesis and of this decode.
"""
import json
from pathlib import Path

import numpy as np

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.features.config import FEATS_FILE, read_typed
from speechkit.features.mcep_frontend import McepFrontend
from speechkit.io import load_audio, load_scp, read_dict
from speechkit.metrics.mcd import mcd, mcd_dtw, variance_ratio
from speechkit.metrics.report import write_report
from speechkit.progress import progress


def get_parser():
    p = common.make_parser(__name__, __doc__)
    p.add_argument("--resynth", action="store_true",
                   help="also score the resynthesised wavs, analysed again (slower)")
    p.add_argument("--copy-system", metavar="EXP",
                   help="experiment dir of the copy (analysis-synthesis) baseline: its "
                        "decode_<data set>/wav/ goes beside this decode's in the spectrograms")
    p.add_argument("--plot-utt", help="utterance (key) of the pictures (default: the first)")
    p.add_argument("--scatter", default="1,2", metavar="I,J",
                   help="the two coefficients of the scatter picture (default %(default)s)")
    p.add_argument("--no-plots", action="store_true", help="no pictures")
    p.add_argument("dir", help="decode dir of speechkit mcep-reconstruct")
    return p


def read_decode(d):
    for name in ("ref.scp", "mcep.scp", "mcep_gv.scp", "decode.conf"):
        if not (d / name).is_file():
            raise SpeechkitError(f"{d}/{name}: missing; is {d} a decode dir of speechkit "
                                 f"mcep-reconstruct (and did it finish)?")
    conf = read_dict(d / "decode.conf")
    return conf.get("mode", "reconstruction"), [load_scp(d / n) for n in
                                                ("ref.scp", "mcep.scp", "mcep_gv.scp")]


def distortion(mode, ref, est, key):
    ref, est = np.asarray(ref), np.asarray(est)
    if mode == "conversion":
        return mcd_dtw(ref, est)
    if len(ref) != len(est):
        raise SpeechkitError(f"key {key}: {len(est)} frames, the reference {len(ref)}; a "
                             f"reconstruction keeps the timing")
    return mcd(ref, est)


def summary(values):
    return round(float(np.mean(values)), 4), round(float(np.std(values)), 4)


def resynth_mcd(d, mode, refs, keys):
    """MCD of the wavs of d/wav analysed again, per key (lengths cropped to the shorter)."""
    frontend = McepFrontend(read_typed(d / FEATS_FILE)[1], str(d / FEATS_FILE))
    wav_scp = read_dict(d / "wav" / "wav.scp")
    out = []
    for key in progress(keys, desc="score-mcep resynth", unit="utt"):
        wav, sr = load_audio(wav_scp[key], f"{d}/wav/wav.scp (key {key})")
        est, ref = frontend.analyze(wav, sr, key)[0], np.asarray(refs[key])
        if mode != "conversion":
            n = min(len(est), len(ref))
            est, ref = est[:n], ref[:n]
        out.append(distortion(mode, ref, est, key))
    return out


def score(d, resynth=False):
    d = Path(d)
    mode, (refs, ests, ests_gv) = read_decode(d)
    keys = sorted(ests)
    missing = [k for k in keys if k not in refs]
    if missing or not keys:
        raise SpeechkitError(f"{d}/ref.scp: no reference for {len(missing)} keys (e.g. "
                             f"{missing[0] if missing else 'none'}), or no output at all")
    ref_mats = [np.asarray(refs[k]) for k in keys]
    result = {"alignment": "dtw" if mode == "conversion" else "aligned", "utterances": len(keys)}
    for suffix, table in (("", ests), ("_gv", ests_gv)):
        mats = [np.asarray(table[k]) for k in keys]
        values = [distortion(mode, r, e, k) for r, e, k in zip(ref_mats, mats, keys)]
        result[f"mcd{suffix}"], result[f"mcd{suffix}_std"] = summary(values)
        ratio = variance_ratio(ref_mats, mats)
        result[f"vr{suffix}"] = round(float(np.mean(ratio)), 4)
        result[f"vr{suffix}_per_dim"] = [round(float(v), 4) for v in ratio]
    if (d / "latents.json").is_file():
        result["active_latents"] = json.loads((d / "latents.json").read_text())["active_latents"]
    if resynth:
        result["mcd_resynth"], result["mcd_resynth_std"] = summary(resynth_mcd(d, mode, refs, keys))
    return mode, keys, result


def report_lines(r):
    lines = [f"%MCD {r['mcd']:.2f} ± {r['mcd_std']:.2f} dB [ {r['utterances']} utterances, "
             f"{r['alignment']}, c0 excluded ]",
             f"%MCD_GV {r['mcd_gv']:.2f} ± {r['mcd_gv_std']:.2f} dB (GV post-filter)",
             f"variance ratio (mean over c1..): {r['vr']:.3f}; with the GV post-filter "
             f"{r['vr_gv']:.3f}"]
    if "mcd_resynth" in r:
        lines.append(f"%MCD_RESYNTH {r['mcd_resynth']:.2f} ± {r['mcd_resynth_std']:.2f} dB "
                     f"(resynthesised wavs analysed again)")
    if "active_latents" in r:
        lines.append(f"active latents (KL > 0.01 nats): {r['active_latents']}")
    return lines


@common.cli("speechkit score-mcep")
def main(argv=None):
    args = get_parser().parse_args(argv)
    d = Path(args.dir)
    mode, keys, result = score(d, args.resynth)
    lines = report_lines(result)
    write_report(d, lines, result)
    print(f"{d}:\n" + "\n".join(lines))
    if not args.no_plots and mode == "reconstruction":
        key = args.plot_utt or keys[0]
        if key not in keys:
            raise SpeechkitError(f"--plot-utt {key}: not a key of {d}/mcep.scp")
        plot(d, key, parse_pair(args.scatter), args.copy_system)


def parse_pair(text):
    try:
        i, j = (int(v) for v in text.split(","))
    except ValueError:
        raise SpeechkitError(f"--scatter {text}: expected two coefficient numbers, e.g. 1,2") from None
    return i, j


def plot(d, key, pair, copy_system=None):
    """images/c21.png, images/scatter.png and (with a copy system) images/spectrograms.png."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, (refs, ests, ests_gv) = read_decode(d)
    ref, est, est_gv = (np.asarray(t[key]) for t in (refs, ests, ests_gv))
    if max(pair) >= ref.shape[1] or min(pair) < 0 or ref.shape[1] <= 21:
        raise SpeechkitError(f"--scatter {pair}: coefficients must be within 0..{ref.shape[1] - 1}"
                             f" (and the trajectory picture needs c21)")
    images = d / "images"
    images.mkdir(exist_ok=True)
    period = read_typed(d / FEATS_FILE)[1].get("frame_period", 5.0) / 1000
    t = np.arange(len(ref)) * period
    fig, ax = plt.subplots(figsize=(8, 3))
    for mat, label in ((ref, "input"), (est, "reconstruction"), (est_gv, "reconstruction + GV")):
        ax.plot(t, mat[:, 21], label=label, lw=1)
    ax.set(xlabel="time (s)", ylabel="c21", title=f"{key}: mel-cepstral coefficient 21")
    ax.legend()
    fig.tight_layout()
    fig.savefig(images / "c21.png", dpi=90)
    plt.close(fig)

    i, j = pair
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(ref[:, i], ref[:, j], s=4, alpha=0.5, label="input")
    ax.scatter(est[:, i], est[:, j], s=4, alpha=0.5, label="reconstruction")
    ax.set(xlabel=f"c{i}", ylabel=f"c{j}", title=f"{key}: frames")
    ax.legend()
    fig.tight_layout()
    fig.savefig(images / "scatter.png", dpi=90)
    plt.close(fig)
    if copy_system:  # the copy system's decoding of the same data dir
        data_set = Path(read_dict(d / "decode.conf").get("data", d.name)).name
        plot_spectrograms(d, key, Path(copy_system) / f"decode_{data_set}",
                          images / "spectrograms.png", plt)


def plot_spectrograms(d, key, copy_dir, out, plt):
    wavs = {"analysis-synthesis (copy)": copy_dir / "wav" / f"{key}.wav",
            f"{d.parent.name} resynthesis": d / "wav" / f"{key}.wav"}
    missing = [str(p) for p in wavs.values() if not p.is_file()]
    if missing:
        raise SpeechkitError(f"{missing[0]}: missing; decode the copy system and this one with "
                             f"wavs (no --no-wav) first")
    fig, axes = plt.subplots(len(wavs), 1, figsize=(8, 5), sharex=True)
    for ax, (label, path) in zip(axes, wavs.items()):
        wav, sr = load_audio(str(path), str(path))
        ax.specgram(wav, NFFT=512, Fs=sr, noverlap=384, cmap="magma")
        ax.set(ylabel="Hz", title=label)
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)

"""The "mcep" feature front-end: WORLD analysis to mel-cepstrum, and back to a waveform.

A data dir's `feats.yaml` with `type: mcep` (written by egs/mcep/local/make_mcep.sh next to
feats.scp, lf0.scp and bap.scp) holds the WORLD and mel-cepstrum options, resolved:

    sample_frequency  16000    the audio's rate (another rate is an error, never resampled)
    frame_period      5.0      ms between frames
    f0_method         dio      dio (+ stonemask) or harvest
    f0_floor, f0_ceil 71, 800  F0 search range in Hz
    fft_size          1024     cheaptrick/d4c FFT size (null: WORLD's smallest for f0_floor)
    order             39       mel-cepstrum order: order+1 coefficients c0..c{order}
    alpha             0.41     all-pass constant (null: the table ALPHAS by sample rate)

The front-end's matrix is the mel-cepstrum (frames, order+1), what feats.scp holds; `analyze`
gives lf0 and band aperiodicity too, and `synthesize` turns the three back into audio, with the
same options, so a model dir's copy of feats.yaml is all that resynthesis needs.

Also here: the statistics the mcep tasks keep in the model dir (training GV per speaker and
overall; log-F0 mean and std per speaker), their files, and the bad-input checks (audio too
short for WORLD, no voiced frame, a rate without a tabled alpha).
"""
from pathlib import Path

import numpy as np

from speechkit.errors import SpeechkitError
from speechkit.features.frontend import FRONTENDS
from speechkit.features.world import F0_METHODS, encode, lf0_to_f0, resolve_fft_size, synthesize
from speechkit.io import MatrixWriter, load_scp, read_dict, read_matrix_dict
from speechkit.io.atomic import atomic_write_text

# pysptk.util.mcepalpha(rate) rounded to 3 decimals, as `speechkit compute-mcep` defaults to.
ALPHAS = {8000: 0.312, 11025: 0.357, 16000: 0.41, 22050: 0.455, 24000: 0.466, 32000: 0.504,
          44100: 0.544, 48000: 0.554}
DEFAULTS = {"sample_frequency": 16000, "frame_period": 5.0, "f0_method": "dio", "f0_floor": 71.0,
            "f0_ceil": 800.0, "fft_size": None, "order": 39, "alpha": None}
MIN_SECONDS = 0.05  # WORLD gives a frame for any length; under this there is nothing to model
MIN_VOICED_SECONDS = 0.025  # dio finds a stray voiced frame or two even in noise
GV_FILE, SPK2LF0_FILE = "gv.ark", "spk2lf0"
GLOBAL = "<global>"  # the gv.ark key of the whole set's GV


def table_alpha(sample_rate, origin="feature options"):
    """The tabled all-pass constant of a sample rate; an untabled rate is an error."""
    if int(sample_rate) not in ALPHAS:
        raise SpeechkitError(f"{origin}: no all-pass constant (alpha) is tabled for "
                             f"{sample_rate} Hz (known: {', '.join(map(str, ALPHAS))}); set "
                             f"alpha in the feature config or resample the audio")
    return ALPHAS[int(sample_rate)]


def _coerce(name, value, origin):
    default = DEFAULTS[name]
    if value is None and default is None:
        return None
    try:
        if name == "f0_method":
            if value not in F0_METHODS:
                raise ValueError
            return str(value)
        if isinstance(value, bool):
            raise ValueError
        if name in ("sample_frequency", "order", "fft_size"):
            if float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        return float(value)
    except (TypeError, ValueError):
        want = "|".join(F0_METHODS) if name == "f0_method" else "a number"
        raise SpeechkitError(f"{origin}: option {name}: expected {want}, got '{value}'") from None


def resolve(options, origin="feature options"):
    """DEFAULTS updated by `options`, checked, with alpha and fft_size filled in."""
    unknown = [k for k in options if k not in DEFAULTS]
    if unknown:
        raise SpeechkitError(f"{origin}: unknown option '{unknown[0]}' for type mcep; known: "
                             f"{', '.join(DEFAULTS)}")
    opts = dict(DEFAULTS)
    opts.update({k: _coerce(k, v, origin) for k, v in options.items()})
    if opts["order"] < 1 or opts["frame_period"] <= 0 or not 0 < opts["f0_floor"] < opts["f0_ceil"]:
        raise SpeechkitError(f"{origin}: need order >= 1, frame_period > 0 and "
                             f"0 < f0_floor < f0_ceil")
    if opts["alpha"] is None:
        opts["alpha"] = table_alpha(opts["sample_frequency"], origin)
    if not -1 < opts["alpha"] < 1:
        raise SpeechkitError(f"{origin}: alpha {opts['alpha']} must be in (-1, 1)")
    try:
        opts["fft_size"] = resolve_fft_size(opts["sample_frequency"], opts["fft_size"],
                                            opts["f0_floor"])
    except SpeechkitError as e:
        raise SpeechkitError(f"{origin}: {e}") from None
    return opts


def compute_mcep_args(opts):
    """The `speechkit compute-mcep` options that compute what `opts` describe."""
    return ["--sample-rate", str(opts["sample_frequency"]), "--frame-period",
            f"{opts['frame_period']:g}", "--f0-method", opts["f0_method"], "--f0-floor",
            f"{opts['f0_floor']:g}", "--f0-ceil", f"{opts['f0_ceil']:g}", "--fft-size",
            str(opts["fft_size"]), "--order", str(opts["order"]), "--alpha", repr(opts["alpha"])]


@FRONTENDS.register("mcep")
class McepFrontend:
    """WORLD analysis -> mel-cepstrum c0..c{order} (frames, order+1); see the module doc."""

    def __init__(self, options, origin="feature options"):
        self.options = resolve(options, origin)
        self.sample_rate = self.options["sample_frequency"]
        self.dim = self.options["order"] + 1

    def _analysis(self):
        o = self.options
        return dict(order=o["order"], alpha=o["alpha"], frame_period=o["frame_period"],
                    f0_method=o["f0_method"], f0_floor=o["f0_floor"], f0_ceil=o["f0_ceil"],
                    fft_size=o["fft_size"])

    def check_audio(self, waveform, sample_rate, origin=None):
        if sample_rate != self.sample_rate:
            raise SpeechkitError(f"{_at(origin)}{sample_rate} Hz audio, but the features are "
                                 f"{self.sample_rate} Hz; resample it (speechkit resample)")
        if len(waveform) < MIN_SECONDS * sample_rate:
            raise SpeechkitError(f"{_at(origin)}{len(waveform) / sample_rate:.3f} s of audio is "
                                 f"too short for WORLD analysis (at least {MIN_SECONDS} s)")

    def analyze(self, waveform, sample_rate, origin=None):
        """(mcep (T, order+1), lf0 (T, 1), bap (T, bands)) float32, as compute-mcep writes."""
        self.check_audio(waveform, sample_rate, origin)
        feats = encode(np.asarray(waveform, np.float64), sample_rate, **self._analysis())
        if not all(np.isfinite(m).all() for m in feats):
            raise SpeechkitError(f"{_at(origin)}WORLD analysis gave non-finite values; check "
                                 f"the audio")
        return feats

    def __call__(self, waveform, sample_rate):
        return self.analyze(waveform, sample_rate)[0]

    def synthesize(self, mcep, lf0, bap):
        """Audio (float64) of mcep (T, order+1), lf0 (T, 1) and bap (T, bands)."""
        o = self.options
        return synthesize(lf0_to_f0(lf0), mcep, bap, self.sample_rate, o["frame_period"],
                          o["alpha"], o["fft_size"], o["f0_floor"])


def _at(origin):
    return f"{origin}: " if origin else ""


def require_voiced(lf0, frame_period, origin=None):
    """Audio with (next to) no voiced frame has no F0 to model or convert: an error."""
    voiced = int((np.asarray(lf0) > 0).sum())
    if voiced * frame_period / 1000 < MIN_VOICED_SECONDS:
        raise SpeechkitError(f"{_at(origin)}no voiced speech: WORLD found F0 in {voiced} frames "
                             f"(under {MIN_VOICED_SECONDS * 1000:g} ms); unvoiced-only audio "
                             f"cannot be resynthesised as speech; is it speech?")


# --- statistics kept in the model dir --------------------------------------------------------
def _gv(mats):
    return np.mean([np.asarray(m, np.float64).var(axis=0) for m in mats], axis=0)


def compute_stats(mceps, lf0s, utt2spk, origin="data"):
    """({key: GV (dims,)} for GLOBAL and each speaker, {spk: (lf0 mean, lf0 std)}).

    GV is the mean over utterances of the per-dimension variance over time (c0 included);
    log-F0 statistics are over voiced frames. A speaker without a voiced frame is an error.
    """
    by_spk = {}
    for utt, spk in utt2spk.items():
        if utt in mceps:
            by_spk.setdefault(spk, []).append(utt)
    if not by_spk:
        raise SpeechkitError(f"{origin}: no utterance has features")
    gv = {GLOBAL: _gv([mceps[u] for utts in by_spk.values() for u in utts])}
    spk2lf0 = {}
    for spk, utts in sorted(by_spk.items()):
        gv[spk] = _gv([mceps[u] for u in utts])
        voiced = np.concatenate([np.asarray(lf0s[u]).reshape(-1) for u in utts])
        voiced = voiced[voiced > 0]
        if not len(voiced):
            raise SpeechkitError(f"{origin}: speaker {spk} has no voiced frame (lf0.scp); its "
                                 f"F0 cannot be modelled")
        spk2lf0[spk] = (float(voiced.mean()), float(voiced.std()))
    return gv, spk2lf0


def write_stats(data_dir):
    """data_dir/gv.ark (text ark: GLOBAL and per speaker, 1 x dims) and data_dir/spk2lf0
    (`<spk> <lf0 mean> <lf0 std>`), from its feats.scp, lf0.scp and utt2spk."""
    data_dir = Path(data_dir)
    mceps = {k: np.asarray(v) for k, v in load_scp(data_dir / "feats.scp").items()}
    lf0s = {k: np.asarray(v) for k, v in load_scp(data_dir / "lf0.scp").items()}
    gv, spk2lf0 = compute_stats(mceps, lf0s, read_dict(data_dir / "utt2spk"), str(data_dir))
    with MatrixWriter(f"ark,t:{data_dir / GV_FILE}") as writer:
        for key in sorted(gv):
            writer.write(key, gv[key][None, :].astype(np.float32))
    atomic_write_text(data_dir / SPK2LF0_FILE, "".join(
        f"{spk} {mean:.6f} {std:.6f}\n" for spk, (mean, std) in sorted(spk2lf0.items())))
    return len(spk2lf0)


def read_gv(path):
    """{key: GV (dims,)} of a gv.ark."""
    return {k: np.asarray(v, np.float64).reshape(-1) for k, v in read_matrix_dict(f"ark:{path}").items()}


def read_spk2lf0(path):
    """{spk: (lf0 mean, lf0 std)} of a spk2lf0 file."""
    out = {}
    for spk, value in read_dict(path).items():
        try:
            mean, std = (float(v) for v in value.split())
        except ValueError:
            raise SpeechkitError(f"{path}: speaker {spk}: expected `<spk> <mean> <std>`") from None
        out[spk] = (mean, std)
    return out


def convert_lf0(lf0, source, target):
    """Log-F0 of voiced frames moved from the source's (mean, std) to the target's."""
    lf0 = np.asarray(lf0, np.float64)
    out = lf0.copy()
    voiced = lf0 > 0
    out[voiced] = (lf0[voiced] - source[0]) / max(source[1], 1e-8) * target[1] + target[0]
    return out.astype(np.float32)

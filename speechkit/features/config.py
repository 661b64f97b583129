"""Feature configs: Kaldi's option names and defaults, loaded from YAML or a Kaldi .conf file.

Options keep Kaldi's names in snake_case (`--num-mel-bins=80` is `num_mel_bins: 80`), so a Kaldi
user's conf/fbank.conf works as it is and a YAML config reads the same. Defaults are Kaldi's,
per feature type (MFCC has use_energy true, fbank false), with one exception: dither defaults
to 0.0 instead of Kaldi's 1.0, so that the same audio always gives the same features (Kaldi
seeds its dither per process, which makes reruns differ). Set `dither: 1.0` for Kaldi's.

Every option is checked: an unknown name, a bad value or an option that does not apply to the
feature type is an error naming the option and the file it came from.
"""
from pathlib import Path

import yaml

from speechkit.errors import SpeechkitError, where
from speechkit.io.atomic import atomic_write_text
from speechkit.io.table import BOM, bom_error

WINDOW_TYPES = ("povey", "hamming", "hanning", "rectangular", "blackman")
PCEN_INITS = ("librosa", "first", "zero")

# name -> help. Defaults live in _DEFAULTS below because some differ by feature type.
HELP = {
    "sample_frequency": "sample rate of the audio in Hz; every recording must have it",
    "frame_length": "frame length in milliseconds",
    "frame_shift": "frame shift in milliseconds",
    "dither": "std. dev. of Gaussian dither on int16-scale samples (Kaldi's default is 1.0)",
    "preemphasis_coefficient": "pre-emphasis coefficient",
    "remove_dc_offset": "subtract each frame's mean before windowing",
    "window_type": "window: " + "|".join(WINDOW_TYPES),
    "round_to_power_of_two": "zero-pad each frame to a power of two for the FFT",
    "blackman_coeff": "constant of the generalised Blackman window",
    "snip_edges": "true: only frames that fit in the audio; false: frames every frame_shift, "
                  "reflecting the audio at the ends",
    "min_duration": "skip (with a warning) utterances shorter than this many seconds, as Kaldi does",
    "allow_downsample": "accepted for Kaldi .conf files; must be false: resample in wav.scp instead",
    "allow_upsample": "accepted for Kaldi .conf files; must be false: resample in wav.scp instead",
    "energy_floor": "floor on the log-energy dimension (0: none)",
    "raw_energy": "compute energy before pre-emphasis and windowing",
    "num_mel_bins": "number of triangular mel bins",
    "low_freq": "low cutoff of the mel bins in Hz",
    "high_freq": "high cutoff of the mel bins in Hz (<= 0: offset from Nyquist)",
    "vtln_low": "low inflection point of the VTLN warp in Hz",
    "vtln_high": "high inflection point of the VTLN warp in Hz (< 0: offset from high_freq)",
    "vtln_warp": "VTLN warp factor (1.0: none)",
    "use_energy": "add the log energy as a dimension (first, or last with htk_compat)",
    "htk_compat": "HTK order: energy or C0 last",
    "use_log_fbank": "log mel energies (false: linear)",
    "use_power": "power spectrum (false: magnitude)",
    "subtract_mean": "subtract each utterance's mean feature (use CMVN instead)",
    "num_ceps": "number of cepstra, C0 included",
    "cepstral_lifter": "cepstral liftering constant (0: none)",
    "gain": "PCEN alpha: exponent of the automatic gain control",
    "bias": "PCEN delta: offset before root compression",
    "power": "PCEN r: root compression exponent (0: log1p)",
    "time_constant": "PCEN smoother time constant in seconds (librosa's)",
    "eps": "PCEN epsilon added to the smoothed energy",
    "smooth_coef": "PCEN smoothing coefficient s; if set, overrides time_constant",
    "pcen_init": "PCEN smoother state before the first frame: librosa (a previous input of 1, "
                 "as librosa.pcen), first (start from the first frame) or zero",
}

_FRAME = {"sample_frequency": 16000.0, "frame_length": 25.0, "frame_shift": 10.0, "dither": 0.0,
          "preemphasis_coefficient": 0.97, "remove_dc_offset": True, "window_type": "povey",
          "round_to_power_of_two": True, "blackman_coeff": 0.42, "snip_edges": True,
          "min_duration": 0.0, "allow_downsample": False, "allow_upsample": False}
_ENERGY = {"energy_floor": 0.0, "raw_energy": True}
_MEL = {"num_mel_bins": 23, "low_freq": 20.0, "high_freq": 0.0, "vtln_low": 100.0,
        "vtln_high": -500.0, "vtln_warp": 1.0}
_PCEN = {"gain": 0.98, "bias": 2.0, "power": 0.5, "time_constant": 0.4, "eps": 1e-6,
         "smooth_coef": None, "pcen_init": "librosa"}

_DEFAULTS = {
    "fbank": {**_FRAME, **_ENERGY, **_MEL, "use_energy": False, "htk_compat": False,
              "use_log_fbank": True, "use_power": True, "subtract_mean": False},
    "mfcc": {**_FRAME, **_ENERGY, **_MEL, "num_ceps": 13, "use_energy": True,
             "cepstral_lifter": 22.0, "htk_compat": False, "subtract_mean": False},
    "spectrogram": {**_FRAME, **_ENERGY, "subtract_mean": False},
    # PCEN works on linear mel energies: no log, no energy dimension, no mean subtraction.
    "pcen": {**_FRAME, **_MEL, "use_power": True, **_PCEN},
}
KINDS = tuple(_DEFAULTS)
_CHOICES = {"window_type": WINDOW_TYPES, "pcen_init": PCEN_INITS}
_TRUE, _FALSE = ("true", "t", "1", "yes"), ("false", "f", "0", "no")


def default_options(kind):
    """Kaldi's defaults for a feature type (dither 0.0, see the module doc)."""
    if kind not in _DEFAULTS:
        raise SpeechkitError(f"unknown feature type '{kind}'; choose one of {', '.join(KINDS)}")
    return dict(_DEFAULTS[kind])


def option_names():
    """Every option of any feature type, for the command line."""
    return list(HELP)


def kinds_with(name):
    return [k for k in KINDS if name in _DEFAULTS[k]]


def parse_bool(value, what="value"):
    """Kaldi's booleans: true/false (also t/f, 1/0, yes/no); YAML's own booleans pass through."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SpeechkitError(f"{what}: expected true or false, got '{value}'")


def _coerce(name, value, default, origin):
    what = f"{origin}: option {name}"
    if isinstance(default, bool):
        return parse_bool(value, what)
    if value is None and name == "smooth_coef":
        return None
    try:
        if isinstance(value, bool):  # YAML `true` where a number belongs
            raise ValueError
        if isinstance(default, int):
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        if isinstance(default, float) or default is None:
            return float(value)
    except (TypeError, ValueError):
        kind = "an integer" if isinstance(default, int) else "a number"
        raise SpeechkitError(f"{what}: expected {kind}, got '{value}'") from None
    value = str(value)
    if value not in _CHOICES.get(name, (value,)):
        raise SpeechkitError(f"{what}: '{value}' is not one of {'|'.join(_CHOICES[name])}")
    return value


def validate(kind, options, origin):
    """Coerce raw {name: value} (strings from a .conf or the command line, or YAML values)."""
    defaults = default_options(kind)
    out = {}
    for raw_name, value in options.items():
        name = str(raw_name).replace("-", "_")
        if name not in defaults:
            applies = kinds_with(name)
            hint = (f"it applies to --type {'/'.join(applies)}" if applies
                    else "see `speechkit compute-feats --help` for the options")
            raise SpeechkitError(f"{origin}: unknown option '{raw_name}' for --type {kind}; {hint}")
        out[name] = _coerce(name, value, defaults[name], origin)
    return out


def _sources(origin):
    """name -> where its value came from: one origin for all, or a {name: origin} map."""
    if isinstance(origin, str):
        return lambda *names: origin

    def where_set(*names):
        # The places that set these options; a default is blamed only when nothing else is.
        places = list(dict.fromkeys(origin.get(n, "default") for n in names))
        chosen = [p for p in places if p != "default"] or places
        return " and ".join(chosen)
    return where_set


def _positive(opts, names, src, strict=True):
    for name in names:
        if name in opts and opts[name] is not None and not (opts[name] > 0 if strict else opts[name] >= 0):
            sign = "> 0" if strict else ">= 0"
            raise SpeechkitError(f"{src(name)}: option {name} must be {sign}, got {opts[name]}")


def check(kind, opts, origin):
    """Cross-option checks Kaldi makes at start-up, so that bad configs fail before any audio.

    `origin` names where the options came from: a string, or {name: origin} (the file, the
    command line, or "default") so that each error blames the place that set the option.
    """
    src = _sources(origin)
    _positive(opts, ("sample_frequency", "frame_length", "frame_shift", "eps", "time_constant",
                     "num_ceps"), src)
    _positive(opts, ("dither", "min_duration", "gain", "bias", "power"), src, strict=False)
    for name in ("allow_downsample", "allow_upsample"):
        if opts[name]:
            raise SpeechkitError(f"{src(name)}: {name}=true is not supported: speechkit never "
                                 f"resamples; resample in wav.scp, e.g. `sox x.wav -r 16000 -t wav - |`")
    if not 0.0 <= opts["preemphasis_coefficient"] <= 1.0:
        raise SpeechkitError(f"{src('preemphasis_coefficient')}: preemphasis_coefficient must be "
                             f"in [0, 1]")
    if int(opts["sample_frequency"] * opts["frame_length"] / 1000) < 2:
        raise SpeechkitError(f"{src('frame_length', 'sample_frequency')}: frame_length "
                             f"{opts['frame_length']} ms is under 2 samples")
    if "num_mel_bins" in opts:
        _check_mel(opts, src)
    if "num_ceps" in opts and opts["num_ceps"] > opts["num_mel_bins"]:
        raise SpeechkitError(f"{src('num_ceps', 'num_mel_bins')}: num_ceps {opts['num_ceps']} > "
                             f"num_mel_bins {opts['num_mel_bins']}")
    if opts.get("smooth_coef") is not None and not 0 < opts["smooth_coef"] <= 1:
        raise SpeechkitError(f"{src('smooth_coef')}: smooth_coef must be in (0, 1]")


def _check_mel(opts, src):
    nyquist = opts["sample_frequency"] / 2
    high = opts["high_freq"] if opts["high_freq"] > 0 else nyquist + opts["high_freq"]
    if opts["num_mel_bins"] < 3:
        raise SpeechkitError(f"{src('num_mel_bins')}: num_mel_bins must be at least 3")
    if not 0 <= opts["low_freq"] < high <= nyquist:
        raise SpeechkitError(f"{src('low_freq', 'high_freq', 'sample_frequency')}: need 0 <= "
                             f"low_freq < high_freq <= Nyquist ({nyquist} Hz); got low_freq "
                             f"{opts['low_freq']}, high_freq {opts['high_freq']}")


def resolve(kind, options=None, origin="feature options"):
    """Defaults of `kind` updated by `options`, validated: what the feature functions take."""
    opts = default_options(kind)
    opts.update(validate(kind, options or {}, origin))
    check(kind, opts, origin)
    return opts


def read_conf(path):
    """A Kaldi .conf file (`--name=value` lines, `#` comments) -> {name: 'value'}."""
    out = {}
    text = _read_text(path)
    if text.startswith(BOM):
        raise bom_error(path)
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not line.startswith("--") or " " in line:
            raise SpeechkitError(f"{where(path, lineno)}: expected one `--name=value` per line, "
                                 f"got '{line}'")
        name, sep, value = line[2:].partition("=")
        out[name.replace("-", "_")] = value if sep else "true"  # Kaldi: a bare --flag is true
    return out


def _read_text(path):
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpeechkitError(f"{path}: cannot read: {e}") from None


def read_yaml(path):
    """A YAML mapping of option names to values."""
    try:
        data = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as e:
        raise SpeechkitError(f"{path}: not valid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpeechkitError(f"{path}: expected a mapping of option names to values")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _is_conf(path):
    if path.suffix in (".yaml", ".yml"):
        return False
    if path.suffix == ".conf":
        return True
    lines = [ln.strip().lstrip(BOM) for ln in _read_text(path).splitlines()]
    return any(ln.startswith("--") for ln in lines if ln and not ln.startswith("#"))


def read_config_file(path):
    """Raw options of a .yaml/.yml or Kaldi .conf file (other names: sniffed from the content)."""
    path = Path(path)
    if not path.is_file():
        raise SpeechkitError(f"feature config {path} does not exist")
    return read_conf(path) if _is_conf(path) else read_yaml(path)


def load_config(kind, path=None, overrides=None):
    """Defaults, then the config file, then command-line overrides; all validated.

    Each error names where the offending option was set (the file or the command line).
    """
    opts = default_options(kind)
    origins = {}
    if path is not None:
        from_file = validate(kind, read_config_file(path), str(path))
        opts.update(from_file)
        origins.update(dict.fromkeys(from_file, str(path)))
    if overrides:
        from_cli = validate(kind, overrides, "command line")
        opts.update(from_cli)
        origins.update(dict.fromkeys(from_cli, "command line"))
    check(kind, opts, origins)
    return opts


# --- the feature config that travels with features ------------------------------------------
# A data dir's `feats.yaml` (and a model dir's copy) names its own type, so that the type never
# lives in a file name: `type: fbank` followed by the resolved options.
FEATS_FILE = "feats.yaml"


def typed_yaml(kind, options):
    """The text of a typed feature config: `type: kind`, then the options."""
    return yaml.safe_dump({"type": kind, **options}, sort_keys=False)


def write_typed(path, kind, options):
    """Write `type: kind` and the options as YAML, atomically."""
    atomic_write_text(path, typed_yaml(kind, options))


def read_typed(path):
    """(kind, options) of a typed feature config; the front-end of `kind` validates the options."""
    path = Path(path)
    if not path.is_file():
        raise SpeechkitError(f"{path}: no feature config (written by utils/make_feats.sh or "
                             f"steps/make_mcep.sh next to feats.scp)")
    options = read_yaml(path)
    kind = options.pop("type", None)
    if not kind:
        raise SpeechkitError(f"{path}: the feature config does not name its type (a `type:` line)")
    return str(kind), options

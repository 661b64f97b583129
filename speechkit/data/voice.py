"""Voice diversity: another voice for the same words, through WORLD analysis and resynthesis.

Signal processing (pure functions on 1-D numpy audio and WORLD matrices):
  - vocal-tract-length warp: the envelope and aperiodicity read at f/A (A > 1: formants up,
    as a shorter vocal tract);
  - F0 shift: voiced F0 times 2^(s/12);
  - spectral tilt (dB per octave, relative to 1 kHz) and a smooth random equalisation;
  - telephone band: 300-3400 Hz, a zero-phase Butterworth band-pass on the waveform.
Only the effects asked for run: with none of the WORLD ones, the audio skips WORLD altogether.
WORLD's output is brought back to the input's RMS (loudness is not an effect) and to its length.

The data-dir copy (`voice`) draws one voice per speaker and writes `speechkit wav-voice` pipes,
as speechkit.data.perturb does for speed and far field.
"""
import logging
import math
import random
import warnings

import numpy as np

from speechkit.data import perturb
from speechkit.errors import SpeechkitError

log = logging.getLogger("speechkit.data")

FRAME_PERIOD = 5.0  # ms, WORLD's default
TELEPHONE = (300.0, 3400.0)  # Hz, the narrow-band telephone channel (ITU-T G.712)
TILT_FLOOR_HZ = 100.0  # below the lowest F0 the envelope holds no harmonics: do not tilt further
EQ_POINTS = 8  # random gains at log-spaced frequencies, 100 Hz .. Nyquist
BAND_ORDER = 8  # per edge; filtfilt doubles it: < -30 dB a third of an octave outside the band


# ---- signal processing --------------------------------------------------------------------

def _pyworld():
    """pyworld, imported when first needed: writing a data dir's pipes does not need it."""
    with warnings.catch_warnings():
        # pyworld 0.3.5 imports pkg_resources, which warns on every run (setuptools<81 has it).
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        import pyworld
    return pyworld


def warp_envelope(env, factor):
    """env (frames, bins) read at bin/factor, linearly interpolated: a peak at f moves to
    f*factor. Bins that would read above the top (factor < 1) hold the top bin's value."""
    bins = env.shape[1]
    src = np.minimum(np.arange(bins) / factor, bins - 1)
    low = np.floor(src).astype(int)
    high = np.minimum(low + 1, bins - 1)
    frac = src - low
    return env[:, low] * (1 - frac) + env[:, high] * frac


def tilt_gain(freqs, db_per_octave):
    """Power gain of a tilt of db_per_octave dB per octave, 0 dB at 1 kHz (held below 100 Hz)."""
    octaves = np.log2(np.maximum(freqs, TILT_FLOOR_HZ) / 1000.0)
    return 10.0 ** (db_per_octave * octaves / 10.0)


def eq_gain(freqs, seed, max_db):
    """Power gain of a smooth random equaliser: EQ_POINTS gains uniform in [-max_db, max_db] dB
    at log-spaced frequencies, joined by a monotone cubic (PCHIP: no overshoot beyond max_db)."""
    from scipy.interpolate import PchipInterpolator
    rng = np.random.default_rng(seed)
    nodes = np.geomspace(TILT_FLOOR_HZ, max(freqs[-1], 2 * TILT_FLOOR_HZ), EQ_POINTS)
    db = rng.uniform(-max_db, max_db, EQ_POINTS)
    curve = PchipInterpolator(np.log(nodes), db)
    logf = np.log(np.clip(freqs, nodes[0], nodes[-1]))  # flat outside the nodes
    return 10.0 ** (curve(logf) / 10.0)


def band_limit(wav, rate, band=TELEPHONE):
    """Zero-phase Butterworth band-pass; a high-pass only when the rate cannot hold the top."""
    from scipy.signal import butter, sosfiltfilt
    low, high = band
    if high < 0.95 * rate / 2:
        sos = butter(BAND_ORDER, [low, high], btype="bandpass", fs=rate, output="sos")
    else:
        sos = butter(BAND_ORDER, low, btype="highpass", fs=rate, output="sos")
    if len(wav) < 2:
        return np.asarray(wav, dtype=np.float64)
    # Short clips: pad with as much as they have (scipy's default pad needs 3 * sections).
    return sosfiltfilt(sos, wav, padlen=min(3 * (2 * len(sos) + 1), len(wav) - 1))


def world_analyze(wav, rate):
    """(f0, envelope, aperiodicity) by dio + stonemask, cheaptrick and d4c (fast; float64)."""
    pyworld = _pyworld()
    x = np.ascontiguousarray(wav, dtype=np.float64)
    f0, times = pyworld.dio(x, rate, frame_period=FRAME_PERIOD)
    f0 = pyworld.stonemask(x, f0, times, rate)
    return f0, pyworld.cheaptrick(x, f0, times, rate), pyworld.d4c(x, f0, times, rate)


def fit_length(wav, length):
    """WORLD synthesizes whole frames: cut its tail, or pad zeros, to the input's length."""
    return wav[:length] if len(wav) >= length else np.pad(wav, (0, length - len(wav)))


def match_rms(wav, reference):
    """wav scaled to the RMS of reference (silence stays silence)."""
    rms = np.sqrt(np.mean(wav ** 2)) if len(wav) else 0.0
    target = np.sqrt(np.mean(np.square(reference, dtype=np.float64))) if len(reference) else 0.0
    return wav * (target / rms) if rms > 0 else np.zeros_like(wav)


def resynthesize(wav, rate, warp=1.0, f0_shift=0.0, tilt=0.0, eq_seed=None, eq_db=0.0):
    """WORLD analysis, the voice changes, synthesis; same length and RMS as wav."""
    f0, env, ap = world_analyze(wav, rate)
    if warp != 1.0:
        env, ap = warp_envelope(env, warp), warp_envelope(ap, warp)
    f0 = f0 * 2.0 ** (f0_shift / 12.0)  # unvoiced frames are 0 and stay 0
    freqs = np.linspace(0, rate / 2, env.shape[1])
    gain = tilt_gain(freqs, tilt)
    if eq_seed is not None and eq_db > 0:
        gain = gain * eq_gain(freqs, eq_seed, eq_db)
    out = _pyworld().synthesize(f0, np.ascontiguousarray(env * gain), np.ascontiguousarray(ap),
                             rate, FRAME_PERIOD)
    return match_rms(fit_length(out, len(wav)), wav)


def change_voice(wav, rate, warp=None, f0_shift=None, tilt=None, eq_seed=None, eq_db=6.0,
                 band=None):
    """1-D audio in another voice, as float64 of the same length. WORLD runs when any of warp,
    f0_shift, tilt, eq_seed is given (`warp=1` alone is the plain WORLD resynthesis); band
    'telephone' band-limits the result; nothing given returns a copy of wav."""
    out = np.asarray(wav, dtype=np.float64)
    if len(out) and any(v is not None for v in (warp, f0_shift, tilt, eq_seed)):
        out = resynthesize(out, rate, 1.0 if warp is None else warp, f0_shift or 0.0,
                           tilt or 0.0, eq_seed, eq_db)
    if band == "telephone" and len(out):
        out = band_limit(out, rate)
    return out.copy()


# ---- the data-dir copy: one voice per speaker ---------------------------------------------

def parse_range(text, option, positive=False):
    """'LO,HI' -> (lo, hi) with lo <= hi, finite (and > 0 when positive), else one line."""
    parts = str(text).split(",")
    try:
        low, high = (float(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        low = high = None
    if (low is None or not math.isfinite(low) or not math.isfinite(high) or low > high
            or (positive and low <= 0)):
        floor = "0 < " if positive else ""
        raise SpeechkitError(f"{option} {text}: give LO,HI with {floor}LO <= HI, e.g. "
                             f"{option} {'0.9,1.1' if positive else '-3,3'}")
    return low, high


def draw_voice(key, seed, warp_range, f0_range, tilt_range, telephone_prob, eq_db):
    """One voice, drawn from (seed, key) alone, so other speakers do not change it.
    -> {option: value as written in the pipe}."""
    rng = random.Random(f"{seed}:{key}")
    voice = {"warp": f"{rng.uniform(*warp_range):.4f}",
             "f0-shift": f"{rng.uniform(*f0_range):.2f}",
             "tilt": f"{rng.uniform(*tilt_range):.2f}"}
    eq_seed = rng.randrange(2 ** 31)  # drawn always, so that --eq-db does not move the others
    if eq_db > 0:
        voice.update({"eq-seed": str(eq_seed), "eq-db": f"{eq_db:g}"})
    if rng.random() < telephone_prob:
        voice["band"] = "telephone"
    return voice


def voice_command(voice):
    return "speechkit wav-voice " + " ".join(f"--{k} {v}" for k, v in voice.items())


def _speaker_of(data):
    """{recording: speaker} for wav.scp; a recording of several speakers (segments) takes its
    first one's voice, one that no utterance uses (None) a voice of its own."""
    utt2spk = data["utt2spk"]
    if not data.has_segments:
        return {rec: utt2spk.get(rec) for rec in data["wav.scp"]}
    found, mixed = {}, set()
    for utt, value in data["segments"].items():
        rec = value.split()[0]
        if rec in found and found[rec] != utt2spk.get(utt):
            mixed.add(rec)
        found.setdefault(rec, utt2spk.get(utt))
    if mixed:
        log.warning("voice: %d recordings hold several speakers; each takes the voice of its "
                    "first speaker", len(mixed))
    return {rec: found.get(rec) for rec in data["wav.scp"]}


def voice(src, dest, prefix="vc1", warp_range=(0.88, 1.12), f0_range=(-4.0, 4.0),
          tilt_range=(-3.0, 3.0), telephone_prob=0.2, eq_db=6.0, seed=0):
    """A copy of SRC in other voices, one per speaker: ids prefixed `<prefix>-`, wav.scp (and
    utt2clean) entries through `speechkit wav-voice`, the voices in DEST/spk2voice.
    Lengths do not change, so durations and segments are copied. -> utterances written."""
    if not prefix or any(c.isspace() for c in prefix):
        raise SpeechkitError(f"--prefix '{prefix}': give a word without spaces, e.g. vc1")
    if not 0 <= telephone_prob <= 1:
        raise SpeechkitError(f"--telephone-prob {telephone_prob}: give a probability in [0, 1]")
    if not 0 <= eq_db < math.inf:
        raise SpeechkitError(f"--eq-db {eq_db}: give a number of dB >= 0 (0: no equalisation)")
    data = perturb.load_source(src)
    perturb.check_dest(src, dest)

    def draw(key):  # the new id is the key: copies under other prefixes get other voices
        return draw_voice(f"{prefix}-{key}", seed, warp_range, f0_range, tilt_range,
                          telephone_prob, eq_db)

    utt2spk, rec2spk = data["utt2spk"], _speaker_of(data)
    voices = {spk: draw(spk) for spk in sorted(set(utt2spk.values()))}
    pipes = {"wav.scp": lambda rec: voice_command(voices.get(rec2spk[rec]) or draw(rec)),
             "utt2clean": lambda utt: voice_command(voices.get(utt2spk.get(utt)) or draw(utt))}
    durs = {name: data[name] for name in ("utt2dur", "reco2dur") if name in data}
    out = perturb.renamed(data, durs, f"{prefix}-", pipes)
    out.tables["spk2voice"] = {f"{prefix}-{spk}": " ".join(f"{k}={v}" for k, v in drawn.items())
                               for spk, drawn in voices.items()}
    out.write(dest, src=src, replace=True)
    return len(out["utt2spk"])

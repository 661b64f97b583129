"""Speech enhancement data dirs from the embedded corpus: clean sentences mixed with noise.

    speechkit synth-corpus --profile sentences --num-speakers 24 --dev-speakers 2 \\
        --test-speakers 2 --utts-per-speaker 40 corpus/sentences
    speechkit prepare-corpus embedded_enhance corpus/sentences data/ [--opt noise_dir=DIR] ...

Modelled on VoiceBank+DEMAND (Valentini-Botinhao et al., 2016): the corpus's speaker-disjoint
train, dev and test splits each become a data dir whose `wav.scp` is the NOISY audio, with

    utt2clean   key -> the clean reference wav (a wav.scp-format table: speechkit.io.AudioTable
                reads it), the same length as the noisy audio, so that noisy = clean + noise
    utt2snr     the mixing SNR in dB (train and dev: 0/5/10/15, test: 2.5/7.5/12.5/17.5)
    utt2noise   the noise type, for per-noise breakdowns (white, pink, brown, hum, babble, or
                the type of a noise recording with noise_dir)
    utt2mix     what exactly was mixed in, e.g. `noise=hum,f0=55,snr=7.5,scale=1.0000` or
                `noise=babble,talkers=s003-0001+s005-0004+...,snr=0,scale=1.0000`
    text, utt2spk, spk2utt, utt2dur

Both wavs are rendered as 16-bit files under DATA_ROOT/wav/<split>/{noisy,clean}/<utt>.wav
(absolute paths in the tables); a rerun rewrites a split's wav dir from scratch.

Clean references. Each eSpeak clip is scaled to an active speech level of speech_level dBFS
(-25) and gets a white noise floor at floor_level dBFS RMS (-80) added: eSpeak writes exact
digital silence between and around words, and metrics computed frame by frame on the reference
(LLR's LPC, segmental SNR) break down on runs of zeros. The floor is part of the reference (it
is what utt2clean holds) and lies 55 dB below the speech, far below any test SNR.

SNR: active speech, measured on the actual signals. Active samples are those of the 10 ms
frames of the clean reference whose energy is within ACTIVITY_DB (40 dB) of its loudest frame
(eSpeak's pauses and the noise floor fall out). The SNR is 10 log10 of the clean energy over
the noise energy on those samples (`measure_snr`), so leading and trailing silence does not
dilute it, in the spirit of the ITU-T P.56 active speech level VoiceBank+DEMAND used. Were the
mixture (or the reference) to exceed PEAK (0.99), both are scaled down by one factor, which
keeps the SNR; the factor is `scale=` in utt2mix (1.0000 when nothing was scaled).

Noise (speechkit.corpus.room's generators). Train and dev draw from train_noises (white,
brown, hum, babble), test from test_noises (white, pink, brown, hum, babble): pink is held out
of training entirely. The instances differ too: hum has a 50 or 60 Hz fundamental in train and
dev and 55 or 65 Hz in test; babble sums 5-8 clips spoken by OTHER speakers of the same split
(up to BABBLE_POOL clips per split are eligible), so train, dev and test babble come from
disjoint talkers and never contain the target speaker (a split of a single speaker falls back
to its other utterances, with a warning). White, pink and brown are fresh random noise per
utterance. Within a split, noise types and SNRs are assigned round-robin over a seeded shuffle
of the utterances, so every SNR bin and every noise type gets an equal share and each
(type, SNR) pair occurs.

Your own noise (noise_dir=DIR, e.g. DEMAND or MUSAN's noise/): every .wav/.flac under DIR,
first channel, resampled to the corpus's rate. Files are grouped by their directory (DEMAND:
DKITCHEN/ch01.wav ... -> type DKITCHEN). With at least MIN_HELD_OUT_GROUPS (4) groups, whole
groups are held out for test (noise_test_fraction of them, at least one), as VoiceBank+DEMAND
holds out noise types; with fewer, files are split within each group (a group of one file
stays in training). Train and dev mix in train files, test in test files: no file is shared.
Each utterance takes a random stretch of its file (tiled when the file is shorter); utt2mix
records `file=<path under DIR>,start=<s>`, utt2noise the group (or the file's stem when each
file is its own group). train_noises/test_noises do not apply then.

Options (`speechkit prepare-corpus --opt NAME=VALUE`), with defaults: seed=0 (noise and
design; independent of the corpus's own seed), train_snrs=0,5,10,15, test_snrs=2.5,7.5,12.5,17.5,
train_noises=white,brown,hum,babble, test_noises=white,pink,brown,hum,babble,
speech_level=-25, floor_level=-80, noise_dir= (none), noise_test_fraction=0.25.

Determinism: all randomness comes from numpy generators seeded by (seed, split, utterance id),
and the design from (seed, split); the same corpus and options give byte-identical wavs.
"""
import hashlib
import logging
import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from speechkit.corpus import room
from speechkit.corpus.manifest import read_manifest
from speechkit.corpus.registry import register
from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError
from speechkit.io.audio import write_wav
from speechkit.progress import progress

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
WAV_DIR = "wav"

# Defaults of the preparer's options.
SEED = 0
TRAIN_SNRS = (0, 5, 10, 15)
TEST_SNRS = (2.5, 7.5, 12.5, 17.5)
TRAIN_NOISES = ("white", "brown", "hum", "babble")
TEST_NOISES = ("white", "pink", "brown", "hum", "babble")
SPEECH_LEVEL = -25.0
FLOOR_LEVEL = -80.0
NOISE_TEST_FRACTION = 0.25

# Hum fundamentals: mains frequencies for training, others for test.
TRAIN_HUM_F0 = (50.0, 60.0)
TEST_HUM_F0 = (55.0, 65.0)
BABBLE_POOL = 200
ACTIVITY_DB = 40.0
FRAME_SECONDS = 0.01
PEAK = room.PEAK
MIN_HELD_OUT_GROUPS = 4
NOISE_SUFFIXES = (".wav", ".flac")
_SILENT_NOISE_TRIES = 10


def rng_for(seed, *what):
    """A numpy Generator for (seed, *what): independent streams, stable across versions."""
    digest = hashlib.sha256("/".join(["speechkit-enhance", str(seed), *map(str, what)]).encode())
    return np.random.default_rng(int.from_bytes(digest.digest()[:16], "little"))


# ---- levels and SNR ----

def active_mask(wav, sample_rate):
    """Boolean per sample: inside a 10 ms frame within ACTIVITY_DB of the loudest frame."""
    x = np.asarray(wav, dtype=np.float64)
    hop = max(1, int(round(sample_rate * FRAME_SECONDS)))
    frames = -(-len(x) // hop)
    padded = np.zeros(frames * hop)
    padded[:len(x)] = x
    energy = np.mean(padded.reshape(frames, hop) ** 2, axis=1)
    peak = energy.max() if frames else 0.0
    if peak <= 0:
        return np.zeros(len(x), dtype=bool)
    active = energy >= peak * 10 ** (-ACTIVITY_DB / 10)
    return np.repeat(active, hop)[:len(x)]


def measure_snr(clean, noisy, sample_rate):
    """SNR in dB of noisy against its clean reference, over the active speech of the clean."""
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(noisy, dtype=np.float64) - clean
    mask = active_mask(clean, sample_rate)
    return 10 * math.log10(np.sum(clean[mask] ** 2) / np.sum(noise[mask] ** 2))


def normalise(wav, sample_rate, level_db, origin):
    """wav scaled so that its active speech has RMS level_db dBFS (float64)."""
    x = np.asarray(wav, dtype=np.float64)
    mask = active_mask(x, sample_rate)
    if not mask.any():
        raise SpeechkitError(f"{origin}: the clip is digital silence; regenerate the corpus")
    return x * (10 ** (level_db / 20) / math.sqrt(np.mean(x[mask] ** 2)))


def mix(clean, noise, snr_db, mask):
    """(clean, noisy, scale): noise scaled to snr_db over `mask`, both scaled below PEAK."""
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    p_speech = np.mean(clean[mask] ** 2)
    p_noise = np.mean(noise[mask] ** 2)
    noisy = clean + noise * math.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    peak = max(np.max(np.abs(noisy)), np.max(np.abs(clean)))
    scale = PEAK / peak if peak > PEAK else 1.0
    return clean * scale, noisy * scale, scale


# ---- noise ----

@dataclass
class Condition:
    """What one split mixes: its SNRs, its noise kinds (or files) and their instances."""
    split: str
    snrs: tuple
    kinds: tuple            # synthetic kind names, or NoiseFile objects with noise_dir
    hum_f0: tuple = TRAIN_HUM_F0


@dataclass(frozen=True)
class NoiseFile:
    """One recording under noise_dir."""
    path: Path
    rel: str                # path under noise_dir, for utt2mix
    label: str              # its type (directory group or stem), for utt2noise
    frames: int
    rate: int


class BabblePool:
    """Clean clips of one split that babble is made from, by utterance id."""

    def __init__(self, rows, seed, split):
        utts = sorted(r["utt"] for r in rows)
        pick = sorted(rng_for(seed, split, "babble").permutation(len(utts))[:BABBLE_POOL])
        chosen = {utts[i] for i in pick}
        self.speaker = {r["utt"]: r["speaker"] for r in rows if r["utt"] in chosen}
        self.clips = {r["utt"]: read_clip(r["path"])[0] for r in rows if r["utt"] in chosen}
        self.utts = sorted(self.clips)
        if len(self.utts) < 2:
            raise SpeechkitError(f"split {split} has {len(rows)} utterance(s): too few to make "
                                 f"babble from; generate more utterances or drop babble from "
                                 f"the noise kinds (--opt train_noises=... / test_noises=...)")
        self.single_speaker = len(set(self.speaker.values())) == 1
        if self.single_speaker:
            log.warning("enhance: split %s has one speaker; its babble is made from that "
                        "speaker's other utterances", split)

    def candidates(self, utt, speaker):
        others = [u for u in self.utts if self.speaker[u] != speaker]
        return others or [u for u in self.utts if u != utt]


def synthetic_noise(kind, n, rng, sample_rate, cond, pool, utt, speaker):
    """(unit-RMS noise of `kind`, detail for utt2mix)."""
    if kind == "hum":
        f0 = cond.hum_f0[int(rng.integers(len(cond.hum_f0)))]
        return room.make_noise("hum", n, rng, sample_rate, hum_f0=f0), f"f0={f0:g}"
    if kind == "babble":
        cands = pool.candidates(utt, speaker)
        lo, hi = room.BABBLE_TALKERS
        k = min(len(cands), int(rng.integers(lo, hi + 1)))
        talkers = [cands[i] for i in sorted(rng.choice(len(cands), size=k, replace=False))]
        clips = [pool.clips[t] for t in talkers]
        noise = room.make_noise("babble", n, rng, sample_rate, pool=clips, babble_talkers=(k, k))
        return noise, "talkers=" + "+".join(talkers)
    return room.make_noise(kind, n, rng, sample_rate), ""


def file_noise(nf, n, rng, sample_rate):
    """(a random stretch of n samples of the file at sample_rate, detail for utt2mix)."""
    need = int(math.ceil(n * nf.rate / sample_rate)) + 16
    if nf.frames > need:
        start = int(rng.integers(nf.frames - need + 1))
        x = _read_noise(nf, start, need)
    else:
        start = 0
        x = _read_noise(nf, 0, nf.frames)
    x = _resample(x, nf.rate, sample_rate)
    if len(x) < n:  # a short recording is repeated from a random point
        x = np.resize(np.roll(x, -int(rng.integers(len(x)))), n)
    return x[:n], f"file={nf.rel},start={start / nf.rate:.3f}"


def _read_noise(nf, start, frames):
    try:
        x, _ = sf.read(str(nf.path), start=start, frames=frames, dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise SpeechkitError(f"{nf.path}: cannot read noise audio: {e}") from None
    if len(x) == 0:
        raise SpeechkitError(f"{nf.path}: the noise file holds no samples; remove it")
    return x[:, 0]


def _resample(x, rate, new_rate):
    if rate == new_rate:
        return x
    import soxr  # noqa: PLC0415 - only needed for noise at another rate
    return np.asarray(soxr.resample(x, rate, new_rate, quality="HQ"), dtype=np.float64)


def noise_files(noise_dir):
    """[NoiseFile] of every .wav/.flac under noise_dir, sorted by path."""
    root = Path(noise_dir)
    if not root.is_dir():
        raise SpeechkitError(f"--opt noise_dir={noise_dir}: no such directory; give the folder "
                             f"holding your noise recordings (e.g. DEMAND or musan/noise)")
    paths = sorted(p for p in root.rglob("*")
                   if p.is_file() and p.suffix.lower() in NOISE_SUFFIXES)
    files = []
    for path in paths:
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError, OSError) as e:
            raise SpeechkitError(f"{path}: cannot read audio header ({e}); remove or replace "
                                 f"it") from None
        if info.frames == 0:
            log.warning("enhance: ignoring empty noise file %s", path)
            continue
        rel = path.relative_to(root).as_posix()
        files.append(NoiseFile(path.resolve(), rel, "", info.frames, info.samplerate))
    if len(files) < 2:
        raise SpeechkitError(f"{root}: {len(files)} noise file(s) (.wav/.flac); at least 2 are "
                             f"needed so that train and test noise are disjoint")
    return files


def _label(text):
    return re.sub(r"[\s,=]+", "_", text) or "noise"


def split_noise_files(files, seed, test_fraction):
    """(train files, test files), disjoint, each with its label (type) set."""
    if not 0 < test_fraction < 1:
        raise SpeechkitError(f"noise_test_fraction must be in (0, 1), not {test_fraction}")
    groups = {}
    for f in files:
        groups.setdefault(str(Path(f.rel).parent), []).append(f)
    rng = rng_for(seed, "noise-split")
    if len(groups) >= MIN_HELD_OUT_GROUPS:   # hold out whole noise types
        names = sorted(groups)
        n_test = max(1, int(round(len(names) * test_fraction)))
        test_names = {names[i] for i in rng.permutation(len(names))[:n_test]}
        labelled = {g: [_with_label(f, g) for f in fs] for g, fs in groups.items()}
        train = [f for g in names if g not in test_names for f in labelled[g]]
        test = [f for g in names if g in test_names for f in labelled[g]]
    else:                                    # split the files of each group
        train, test = [], []
        for g in sorted(groups):
            fs = [_with_label(f, Path(f.rel).stem if len(groups[g]) == 1 or g == "." else g)
                  for f in groups[g]]
            n_test = max(1, int(round(len(fs) * test_fraction))) if len(fs) > 1 else 0
            held = set(rng.permutation(len(fs))[:n_test].tolist())
            train += [f for i, f in enumerate(fs) if i not in held]
            test += [f for i, f in enumerate(fs) if i in held]
    if not train or not test:
        raise SpeechkitError(f"noise files could not be split into train and test "
                             f"({len(train)} / {len(test)}); add noise files")
    return train, test


def _with_label(f, group):
    return NoiseFile(f.path, f.rel, _label(Path(f.rel).stem if group == "." else group),
                     f.frames, f.rate)


# ---- the design: which noise and SNR each utterance gets ----

def design(utts, num_kinds, snrs, rng):
    """{utt: (kind index, snr)}: round-robin over a shuffle of utts, balanced in both.

    Position i gets kind i mod K and SNR (i + i // L) mod S, L = lcm(K, S): every block of L
    utterances holds each kind L/K and each SNR L/S times, and the shift by one SNR per block
    makes all K*S pairs occur even when K and S share a factor.
    """
    order = [sorted(utts)[i] for i in rng.permutation(len(utts))]
    period = math.lcm(num_kinds, len(snrs))
    return {u: (i % num_kinds, snrs[(i + i // period) % len(snrs)])
            for i, u in enumerate(order)}


# ---- reading and writing ----

def read_clip(path):
    """(float64 mono samples, rate) of a corpus wav."""
    try:
        wav, sr = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise SpeechkitError(f"{path}: cannot read audio: {e}; regenerate the corpus") from None
    if len(wav) == 0:
        raise SpeechkitError(f"{path}: no samples; regenerate the corpus")
    return wav[:, 0], sr


def fresh_wav_dir(data_root, split):
    """DATA_ROOT/wav/<split>, emptied: a rerun must not leave wavs of another configuration."""
    wav_dir = (Path(data_root) / WAV_DIR / split).resolve()
    if wav_dir.exists():
        shutil.rmtree(wav_dir)
    for sub in ("noisy", "clean"):
        (wav_dir / sub).mkdir(parents=True)
    return wav_dir


@dataclass
class Mixture:
    """One rendered utterance: the reference and the mixture, and what went into it."""
    clean: np.ndarray
    noisy: np.ndarray
    sample_rate: int
    label: str              # utt2noise
    detail: str             # noise instance, for utt2mix ('' for fresh random noise)
    snr: float
    scale: float

    def mix_string(self):
        detail = f"{self.detail}," if self.detail else ""
        return f"noise={self.label},{detail}snr={self.snr:g},scale={self.scale:.4f}"


def mix_utterance(row, kind, snr, cond, pool, rng, speech_level, floor_level):
    """The Mixture of one manifest row with noise `kind` (a name or a NoiseFile) at snr dB."""
    utt = row["utt"]
    raw, sr = read_clip(row["path"])
    clean = normalise(raw, sr, speech_level, row["path"])
    clean += rng.standard_normal(len(clean)) * 10 ** (floor_level / 20)
    mask = active_mask(clean, sr)
    synthetic = not isinstance(kind, NoiseFile)
    for _ in range(_SILENT_NOISE_TRIES):
        if synthetic:
            noise, detail = synthetic_noise(kind, len(clean), rng, sr, cond, pool, utt,
                                            row["speaker"])
        else:
            noise, detail = file_noise(kind, len(clean), rng, sr)
        if np.mean(np.asarray(noise, dtype=np.float64)[mask] ** 2) > 1e-20:
            break
    else:
        name = kind if synthetic else kind.path
        raise SpeechkitError(f"{name}: noise silent over the speech of {utt} in "
                             f"{_SILENT_NOISE_TRIES} tries; remove it from noise_dir")
    clean, noisy, scale = mix(clean, noise, float(snr), mask)
    return Mixture(clean, noisy, sr, kind if synthetic else kind.label, detail, snr, scale)


def render_split(cond, rows, data_root, seed, speech_level, floor_level):
    """Mix and write every utterance of `rows` under `cond` -> the split's data-dir tables."""
    synthetic = not isinstance(cond.kinds[0], NoiseFile)
    pool = BabblePool(rows, seed, cond.split) if synthetic and "babble" in cond.kinds else None
    plan = design([r["utt"] for r in rows], len(cond.kinds), cond.snrs,
                  rng_for(seed, cond.split, "design"))
    wav_dir = fresh_wav_dir(data_root, cond.split)
    names = ("wav.scp", "utt2clean", "text", "utt2spk", "utt2dur", "utt2snr", "utt2noise",
             "utt2mix")
    tables = {n: {} for n in names}
    rate = None
    for r in progress(rows, desc=f"enhance {cond.split}"):
        utt = r["utt"]
        kind_index, snr = plan[utt]
        m = mix_utterance(r, cond.kinds[kind_index], snr, cond, pool,
                          rng_for(seed, cond.split, utt), speech_level, floor_level)
        if rate is not None and m.sample_rate != rate:
            raise SpeechkitError(f"{r['path']}: {m.sample_rate} Hz, other clips of the corpus "
                                 f"are {rate} Hz; regenerate the corpus")
        rate = m.sample_rate
        paths = {sub: wav_dir / sub / f"{utt}.wav" for sub in ("noisy", "clean")}
        write_wav(paths["noisy"], m.noisy.astype(np.float32), rate)
        write_wav(paths["clean"], m.clean.astype(np.float32), rate)
        tables["wav.scp"][utt] = str(paths["noisy"])
        tables["utt2clean"][utt] = str(paths["clean"])
        tables["text"][utt] = r["text"]
        tables["utt2spk"][utt] = r["speaker"]
        tables["utt2dur"][utt] = f"{len(m.clean) / rate:.4f}"
        tables["utt2snr"][utt] = f"{snr:g}"
        tables["utt2noise"][utt] = m.label
        tables["utt2mix"][utt] = m.mix_string()
    return tables


# ---- options ----

def _snrs(name, values):
    snrs = tuple(values)
    if not snrs:
        raise SpeechkitError(f"{name} is empty; give e.g. --opt {name}=0,5,10,15")
    if any(not math.isfinite(s) for s in snrs) or len(set(snrs)) != len(snrs):
        raise SpeechkitError(f"{name}={','.join(map(str, snrs))}: SNRs must be finite numbers "
                             f"listed once each")
    return snrs


def _kinds(name, values):
    kinds = tuple(values)
    bad = [k for k in kinds if k not in room.NOISE_KINDS]
    if not kinds or bad or len(set(kinds)) != len(kinds):
        raise SpeechkitError(f"{name}={','.join(kinds)}: give distinct noise kinds among "
                             f"{','.join(room.NOISE_KINDS)}")
    return kinds


def conditions(seed, train_snrs, test_snrs, train_noises, test_noises, noise_dir,
               noise_test_fraction):
    """{split: Condition} from the options."""
    train_snrs, test_snrs = _snrs("train_snrs", train_snrs), _snrs("test_snrs", test_snrs)
    if noise_dir:
        if tuple(train_noises) != TRAIN_NOISES or tuple(test_noises) != TEST_NOISES:
            raise SpeechkitError("train_noises/test_noises choose synthetic noise; with "
                                 "noise_dir the noise types are the recordings: drop them")
        train, test = split_noise_files(noise_files(noise_dir), seed, noise_test_fraction)
        log.info("enhance: %d train and %d test noise files from %s", len(train), len(test),
                 noise_dir)
        train_kinds, test_kinds = tuple(train), tuple(test)
    else:
        train_kinds, test_kinds = _kinds("train_noises", train_noises), \
            _kinds("test_noises", test_noises)
        if set(test_kinds) <= set(train_kinds):
            log.warning("enhance: every test noise kind is also a training kind; none is "
                        "held out")
    return {"train": Condition("train", train_snrs, train_kinds, TRAIN_HUM_F0),
            "dev": Condition("dev", train_snrs, train_kinds, TRAIN_HUM_F0),
            "test": Condition("test", test_snrs, test_kinds, TEST_HUM_F0)}


@register("embedded_enhance")
def prepare(src, data_root, seed=SEED, train_snrs=TRAIN_SNRS, test_snrs=TEST_SNRS,
            train_noises=TRAIN_NOISES, test_noises=TEST_NOISES, speech_level=SPEECH_LEVEL,
            floor_level=FLOOR_LEVEL, noise_dir="", noise_test_fraction=NOISE_TEST_FRACTION):
    """Write train, dev and test (noisy wav.scp + utt2clean ...) -> {split: utterances}."""
    manifest = Path(src) / "manifest.tsv"
    rows = read_manifest(manifest, absolute_paths=True)
    if not -60 <= speech_level <= -3:
        raise SpeechkitError(f"speech_level {speech_level} dBFS: give a level in -60..-3")
    if not floor_level <= speech_level - 30:
        raise SpeechkitError(f"floor_level {floor_level} dBFS must lie at least 30 dB below "
                             f"speech_level {speech_level}; e.g. --opt floor_level=-80")
    conds = conditions(seed, train_snrs, test_snrs, train_noises, test_noises, noise_dir,
                       noise_test_fraction)
    parts = {s: [r for r in rows if r["split"] == s] for s in SPLITS}
    for split, part in parts.items():
        if not part:
            raise SpeechkitError(f"{manifest}: no utterance in split '{split}'; generate the "
                                 f"corpus with more speakers (--{split}-speakers)"
                                 if split != "train" else
                                 f"{manifest}: no train utterance; generate more speakers")
    if any(len(r["text"].split()) < 2 for r in rows):
        log.warning("enhance: %s has one-word utterances; was it generated with "
                    "--profile sentences?", manifest)
    counts = {}
    for split, part in parts.items():
        tables = render_split(conds[split], part, data_root, seed, speech_level, floor_level)
        dest = Path(data_root) / split
        DataDir(dest, tables).write(dest, replace=True)
        counts[split] = len(part)
    return counts

"""Keyword-spotting data dirs from the embedded corpus (`synth-corpus --profile commands`).

    speechkit synth-corpus --profile commands --num-speakers 50 --dev-speakers 4 \\
        --test-speakers 6 --utts-per-speaker 60 corpus/commands
    speechkit prepare-corpus embedded_kws corpus/commands data/ [--opt augment=true] ...

Sets written under DATA_ROOT (Speech Commands style, 1 s clips at 16 kHz):

    train             near field, the corpus's train speakers (+ `_silence_`)
    train_multi       with augment=true only: train plus a far-field copy of each of its clips
                      (multi-condition training)
    dev               near field, the dev speakers (+ `_silence_`)
    test_near         near field, the test speakers (+ `_silence_`)
    test_far_snr20    the utterances of test_near, each heard across its own simulated room
    test_far_snr10      (speechkit.corpus.room) with background noise at 20, 10 and 0 dB SNR;
    test_far_snr0       the room and the noise waveform of an utterance are the same in all
                        three, so the sets differ only in the noise level (option snrs)

Labels (`text`): the word if it is one of the 10 keywords (yes no up down left right on off
stop go), `_unknown_` for the other words, `_silence_` for clips without speech. `utt2word`
keeps the true word (`_silence_` for silence). Far-field dirs add `utt2room`, e.g.
`rt60=0.43,dist=3.1,snr=10,noise=pink,room=17` (design RT60 s, talker distance m, SNR dB,
noise kind, index of the room in the cache); train_multi has `utt2room` too, `near` for its
near-field utterances. The test_far_snr* dirs also have one number per
utterance in `utt2rt60` (design RT60, s), `utt2distance` (talker to microphone, m), `utt2drr`
and `utt2c50` (the direct-to-reverberant ratio and C50 measured on the RIR used, dB; see
speechkit.corpus.room.rir_measures), which `speechkit score-kws --data-root` breaks accuracy
down by; train_multi does not (its near-field half has no room).

Clips. Each eSpeak clip is cut or zero-padded to exactly 16000 samples, centred on its speech
(the span of 10 ms frames within 40 dB of the loudest one; eSpeak's words last 0.2-0.8 s, so
nothing is cut in practice). Every clip is written again as a 16-bit wav under
DATA_ROOT/wav/<set>/<utt>.wav (wav.scp holds absolute paths); rerunning rewrites the set.

Silence. `_silence_` clips are 1 s of synthetic noise (white, pink, brown or hum; see
speechkit.corpus.room) at an RMS drawn in SILENCE_LEVEL_DB (-70..-35 dBFS), as many as make
silence_fraction (10%) of each set. Their speaker is `sil` and their ids `sil-0001`...; in the
far-field sets they go through a room like the words, and their noise is added at the level the
set's word clips got on average (the SNR refers to the mean reverberant word power).

Rooms. Rooms are costly to simulate, so a cache of num_rooms (100) rooms is drawn from the seed
and each utterance picks one at random: the test sets draw from one cache, training
augmentation from another, so no test room is seen in training. num_rooms=0 gives every
utterance its own room (slower). Noise kinds: white, pink, brown, hum and babble (silence
clips: not babble), one drawn per utterance; babble is made from a fixed choice of up to 200
other word clips of the same set (so from test speakers in the test sets).

Augmentation (augment=true, off by default here; the kws recipe turns it on): every train
utterance, silence included, gets one far-field copy in a training room at an SNR drawn
uniformly in augment_snr (10-30 dB), and train_multi holds both. A copy of utterance
`s001-0007` (speaker `s001`) is `rvb1-s001-0007` with speaker `rvb1-s001`, so that the speaker
id stays a prefix of the utterance id. `train` stays near field either way, so models trained
on either set can live side by side; a rerun without augment removes train_multi.

Options (keyword arguments; `speechkit prepare-corpus --opt NAME=VALUE`), with defaults:
seed=0 (rooms, noise, silence; independent of the corpus's own seed), snrs=20,10,0,
augment=false, augment_snr=10,30, silence_fraction=0.1, num_rooms=100. A rerun rewrites every
set and removes the test_far_snr* sets (and wavs) of an earlier run with other SNRs.

Determinism. All randomness comes from numpy generators seeded by (seed, purpose, utterance
id), so the output depends neither on the order of processing nor on other utterances.
"""
import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from speechkit.corpus import room as roomsim
from speechkit.corpus.manifest import read_manifest
from speechkit.corpus.profiles import COMMAND_KEYWORDS
from speechkit.corpus.registry import register
from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError
from speechkit.progress import progress

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000
KEYWORDS = COMMAND_KEYWORDS
UNKNOWN = "_unknown_"
SILENCE = "_silence_"
LABELS = KEYWORDS + (UNKNOWN, SILENCE)
SILENCE_SPEAKER = "sil"
WAV_DIR = "wav"

# Defaults of the preparer's options (`--opt name=value` on the command line).
SEED = 0
SNRS = (20, 10, 0)
AUGMENT = False
AUGMENT_SNR = (10.0, 30.0)
AUGMENT_PREFIX = "rvb1"
MULTI_SET = "train_multi"          # train + the far-field copies (augment=true)
SILENCE_FRACTION = 0.1
SILENCE_LEVEL_DB = (-70.0, -35.0)
NUM_ROOMS = 100
BABBLE_POOL = 200
# Per-utterance tables of the far-field sets: utt2rt60, utt2distance, utt2drr, utt2c50.
FAR_MEASURES = ("rt60", "distance", "drr", "c50")
# Speech detection for centring: 10 ms frames within this many dB of the loudest frame.
ACTIVITY_DB = 40.0


def label_of(word):
    """The KWS label of a word: the word itself for a keyword, else `_unknown_`."""
    return word if word in KEYWORDS or word == SILENCE else UNKNOWN


def rng_for(seed, *what):
    """A numpy Generator for (seed, *what): independent streams, stable across versions."""
    digest = hashlib.sha256("/".join(["speechkit-kws", str(seed), *map(str, what)]).encode())
    return np.random.default_rng(int.from_bytes(digest.digest()[:16], "little"))


def speech_span(wav, sample_rate=SAMPLE_RATE):
    """(first, last+1) sample of the 10 ms frames within ACTIVITY_DB of the loudest frame."""
    hop = sample_rate // 100
    n = len(wav) // hop
    if n == 0:
        return 0, len(wav)
    frames = np.asarray(wav[:n * hop], dtype=np.float64).reshape(n, hop)
    energy = np.mean(frames ** 2, axis=1)
    if energy.max() <= 0:
        return 0, len(wav)
    active = np.flatnonzero(energy >= energy.max() * 10 ** (-ACTIVITY_DB / 10))
    return int(active[0] * hop), int(min(len(wav), (active[-1] + 1) * hop))


def fit_clip(wav, num_samples=CLIP_SAMPLES, sample_rate=SAMPLE_RATE):
    """Exactly num_samples samples centred on the speech of wav (cut or zero-padded), float32."""
    wav = np.asarray(wav, dtype=np.float32)
    first, last = speech_span(wav, sample_rate)
    start = (first + last) // 2 - num_samples // 2
    out = np.zeros(num_samples, dtype=np.float32)
    lo, hi = max(start, 0), min(start + num_samples, len(wav))
    if hi > lo:
        out[lo - start:hi - start] = wav[lo:hi]
    return out


def pad_end(wav, num_samples=CLIP_SAMPLES):
    """Zero-pad at the end (or cut) to num_samples, as Speech Commands' own pipelines do."""
    wav = np.asarray(wav, dtype=np.float32)[:num_samples]
    return np.pad(wav, (0, num_samples - len(wav)))


def silence_clip(rng, num_samples=CLIP_SAMPLES, sample_rate=SAMPLE_RATE,
                 level_db=SILENCE_LEVEL_DB):
    """1 s of speechless synthetic noise at a random RMS level -> (clip, kind)."""
    kind = roomsim.SPEECHLESS_KINDS[int(rng.integers(len(roomsim.SPEECHLESS_KINDS)))]
    noise = roomsim.make_noise(kind, num_samples, rng, sample_rate)
    level = 10 ** ((level_db[0] + (level_db[1] - level_db[0]) * rng.random()) / 20)
    return np.clip(noise * level, -1, 1).astype(np.float32), kind


@dataclass
class Clip:
    """One 1 s utterance of a KWS set."""
    utt: str
    speaker: str
    word: str
    wav: np.ndarray

    @property
    def label(self):
        return label_of(self.word)

    @property
    def is_silence(self):
        return self.word == SILENCE


def silence_clips(seed, split, count, prefix=SILENCE_SPEAKER):
    width = max(4, len(str(count)))
    clips = []
    for i in range(1, count + 1):
        utt = f"{prefix}-{i:0{width}d}"
        wav, _ = silence_clip(rng_for(seed, "silence", split, utt))
        clips.append(Clip(utt, prefix, SILENCE, wav))
    return clips


def num_silence(num_words, fraction):
    """How many silence clips make `fraction` of a set that has num_words word clips."""
    if not 0 <= fraction < 1:
        raise SpeechkitError(f"silence_fraction must be in [0, 1), not {fraction}")
    return int(round(num_words * fraction / (1 - fraction)))


# ---- writing sets ----

def write_clip(path, wav):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    sf.write(str(tmp), np.clip(wav, -1, 1), SAMPLE_RATE, subtype="PCM_16", format="WAV")
    tmp.replace(path)


def fresh_wav_dir(data_root, name):
    """DATA_ROOT/wav/<name>, emptied (a rerun must not leave clips of another configuration)."""
    wav_dir = (Path(data_root) / WAV_DIR / name).resolve()
    if wav_dir.exists():
        shutil.rmtree(wav_dir)
    wav_dir.mkdir(parents=True)
    return wav_dir


def remove_set(data_root, name):
    """Remove the data dir <name> and its wavs, if an earlier run wrote them."""
    for path in (Path(data_root) / name, Path(data_root) / WAV_DIR / name):
        if path.is_dir():
            shutil.rmtree(path)


def remove_far_sets(data_root, prefix="test_far"):
    """Remove the data dirs <prefix>_snr* (and their wavs) of an earlier run, whatever its SNRs:
    a stale set would otherwise be scored with the new ones."""
    for base in (Path(data_root), Path(data_root) / WAV_DIR):
        for path in sorted(base.glob(f"{prefix}_snr*")) if base.is_dir() else []:
            if path.is_dir():
                shutil.rmtree(path)


def write_set(data_root, name, rows):
    """rows: dicts utt, speaker, label, word, path[, room][, measures] -> the data dir
    DATA_ROOT/<name>; the utt2<measure> tables only when every row has measures."""
    tables = {
        "wav.scp": {r["utt"]: str(r["path"]) for r in rows},
        "text": {r["utt"]: r["label"] for r in rows},
        "utt2spk": {r["utt"]: r["speaker"] for r in rows},
        "utt2word": {r["utt"]: r["word"] for r in rows},
        "utt2dur": {r["utt"]: f"{CLIP_SAMPLES / SAMPLE_RATE:.4f}" for r in rows},
    }
    if any("room" in r for r in rows):
        tables["utt2room"] = {r["utt"]: r.get("room", "near") for r in rows}
    if rows and all("measures" in r for r in rows):
        for measure in FAR_MEASURES:
            tables[f"utt2{measure}"] = {r["utt"]: r["measures"][measure] for r in rows}
    dest = Path(data_root) / name
    DataDir(dest, tables).write(dest, replace=True)
    return len(rows)


def write_near_set(data_root, name, clips):
    wav_dir = fresh_wav_dir(data_root, name)
    rows = []
    for clip in progress(clips, desc=f"kws {name}"):
        path = wav_dir / f"{clip.utt}.wav"
        write_clip(path, clip.wav)
        rows.append(dict(utt=clip.utt, speaker=clip.speaker, label=clip.label, word=clip.word,
                         path=path))
    return rows


def far_measures(info):
    """The utt2<name> values of a far-field utterance, for FAR_MEASURES."""
    return {"rt60": f"{info['rt60']:.3f}", "distance": f"{info['distance']:.3f}",
            "drr": f"{info['drr']:.2f}", "c50": f"{info['c50']:.2f}"}


def room_string(info, snr, room_index):
    room = "" if room_index is None else f",room={room_index}"
    return (f"rt60={info['rt60']:.2f},dist={info['distance']:.1f},snr={snr:g},"
            f"noise={info['noise']}{room}")


def choose_pool(utts, seed, purpose, size=BABBLE_POOL):
    """A fixed random choice of up to `size` of utts (sorted) to make babble noise from."""
    utts = sorted(utts)
    pick = rng_for(seed, purpose, "babble").permutation(len(utts))[:size]
    return [utts[i] for i in sorted(pick)]


class FarFieldRenderer:
    """Renders clips through rooms from one cache (or a fresh room each, num_rooms=0).

    purpose ("test", "train") names the stream that rooms and per-clip draws come from;
    pool is a list of Clips whose speech makes the babble noise.
    """

    def __init__(self, seed, purpose, num_rooms, pool):
        self.seed = seed
        self.purpose = purpose
        if num_rooms < 0:
            raise SpeechkitError(f"num_rooms must be >= 0, not {num_rooms}")
        self.rooms = None
        if num_rooms:
            rooms = []
            rng = rng_for(seed, purpose, "rooms")
            for _ in progress(range(num_rooms), desc=f"kws rooms ({purpose})", unit="room"):
                rooms.append(roomsim.draw_room(rng, SAMPLE_RATE))
            self.rooms = rooms
        self.pool = [(c.utt, c.wav) for c in pool if not c.is_silence]

    def reverberant(self, clip):
        """(reverberant clip, noise at unit RMS, info, room index, the clip's rng); no SNR yet."""
        rng = rng_for(self.seed, self.purpose, clip.utt)
        if self.rooms is None:
            index, room = None, roomsim.draw_room(rng, SAMPLE_RATE)
        else:
            index = int(rng.integers(len(self.rooms)))
            room = self.rooms[index]
        rev = roomsim.reverberate(clip.wav, room)
        pool = [wav for utt, wav in self.pool if utt != clip.utt]
        kinds = roomsim.SPEECHLESS_KINDS if clip.is_silence else roomsim.NOISE_KINDS
        kinds = [k for k in kinds if k != "babble" or pool]
        kind = kinds[int(rng.integers(len(kinds)))]
        noise = roomsim.make_noise(kind, len(rev), rng, SAMPLE_RATE, pool)
        info = dict(room.info(), noise=kind,
                    **roomsim.rir_measures(room.rir, room.delay, room.sample_rate))
        return rev, noise, info, index, rng

    def render(self, word_clips, silence_clips, emit, desc):
        """emit(clip, rev, noise, info, room index, rng, ref_power) for every clip.

        Word clips come first (ref_power None: the SNR refers to the clip itself); silence
        clips then get the mean power of the reverberant words as their reference. Both are
        iterables consumed once, so sets larger than memory stream through.
        """
        powers = []
        for clip in progress(word_clips, desc=desc):
            rev, noise, info, index, rng = self.reverberant(clip)
            powers.append(roomsim.power(rev))
            emit(clip, rev, noise, info, index, rng, None)
        ref = float(np.mean(powers)) if powers else 1e-3
        for clip in progress(silence_clips, desc=f"{desc} (silence)"):
            emit(clip, *self.reverberant(clip), ref)


def render_far_sets(data_root, word_clips, silence_clips, pool, snrs, seed=SEED,
                    num_rooms=NUM_ROOMS, prefix="test_far"):
    """Write <prefix>_snr<S> for each S in snrs: every clip through its room + noise at S dB.

    The room and the noise of a clip do not depend on S, so the sets differ only in the noise
    level. Silence clips get their noise at the mean power of the set's reverberant word clips
    over 10^(S/10). -> {set name: number of utterances}
    """
    snrs = [float(s) for s in snrs]
    if not snrs:
        raise SpeechkitError("snrs is empty; give e.g. snrs=20,10,0")
    names = {s: f"{prefix}_snr{s:g}" for s in snrs}
    if len(set(names.values())) != len(names):
        raise SpeechkitError(f"snrs {snrs}: an SNR is listed twice")
    remove_far_sets(data_root, prefix)
    renderer = FarFieldRenderer(seed, "test", num_rooms, pool)
    wav_dirs = {s: fresh_wav_dir(data_root, n) for s, n in names.items()}
    rows = {s: [] for s in snrs}

    def emit(clip, rev, noise, info, index, rng, ref_power):
        for s in snrs:
            out, _ = roomsim.add_noise(rev, noise, s, ref_power)
            path = wav_dirs[s] / f"{clip.utt}.wav"
            write_clip(path, out)
            rows[s].append(dict(utt=clip.utt, speaker=clip.speaker, label=clip.label,
                                word=clip.word, path=path, room=room_string(info, s, index),
                                measures=far_measures(info)))

    renderer.render(word_clips, silence_clips, emit, f"kws {prefix}")
    return {names[s]: write_set(data_root, names[s], rows[s]) for s in snrs}


def augmented_rows(data_root, word_clips, silence_clips, pool, seed=SEED, num_rooms=NUM_ROOMS,
                   snr_range=AUGMENT_SNR, name=MULTI_SET):
    """Far-field copies (rvb1-...) of train clips, written to a fresh DATA_ROOT/wav/<name>/
    -> rows."""
    lo, hi = _as_pair("augment_snr", snr_range)
    if not lo <= hi:
        raise SpeechkitError(f"augment_snr {lo}..{hi} is not an interval (low,high)")
    renderer = FarFieldRenderer(seed, "train", num_rooms, pool)
    wav_dir = fresh_wav_dir(data_root, name)
    rows = []

    def emit(clip, rev, noise, info, index, rng, ref_power):
        snr = round(lo + (hi - lo) * rng.random(), 1)
        out, _ = roomsim.add_noise(rev, noise, snr, ref_power)
        utt = f"{AUGMENT_PREFIX}-{clip.utt}"
        path = wav_dir / f"{utt}.wav"
        write_clip(path, out)
        rows.append(dict(utt=utt, speaker=f"{AUGMENT_PREFIX}-{clip.speaker}", label=clip.label,
                         word=clip.word, path=path, room=room_string(info, snr, index)))

    renderer.render(word_clips, silence_clips, emit, f"kws {name} augmentation")
    return rows


def _as_pair(name, value):
    pair = tuple(float(v) for v in value)
    if len(pair) != 2:
        raise SpeechkitError(f"{name} needs two numbers (low,high), not {value!r}")
    return pair


# ---- the preparer ----

def load_clips(rows, split):
    clips = []
    for r in progress(rows, desc=f"kws read {split}"):
        try:
            wav, sr = sf.read(r["path"], dtype="float32")
        except (sf.LibsndfileError, RuntimeError, OSError) as e:
            raise SpeechkitError(f"{r['path']} (utt {r['utt']}): cannot read audio: {e}") from None
        if sr != SAMPLE_RATE:
            raise SpeechkitError(f"{r['path']}: {sr} Hz; the KWS sets are 16 kHz: generate the "
                                 f"corpus with `speechkit synth-corpus --sample-rate 16000`")
        if wav.ndim != 1:
            wav = wav[:, 0]
        clips.append(Clip(r["utt"], r["speaker"], r["text"], fit_clip(wav)))
    return clips


@register("embedded_kws")
def prepare(src, data_root, seed=SEED, snrs=SNRS, augment=AUGMENT, augment_snr=AUGMENT_SNR,
            silence_fraction=SILENCE_FRACTION, num_rooms=NUM_ROOMS):
    """Write train, dev, test_near and test_far_snr<S> under data_root -> {set: utterances}."""
    manifest = Path(src) / "manifest.tsv"
    rows = read_manifest(manifest, absolute_paths=True)
    if not snrs:
        raise SpeechkitError("snrs is empty; give e.g. snrs=20,10,0")
    words = {r["text"] for r in rows}
    odd = sorted(w for w in words if len(w.split()) != 1)
    if odd:
        raise SpeechkitError(f"{manifest}: transcripts of more than one word (e.g. '{odd[0]}'); "
                             f"generate the corpus with "
                             f"`speechkit synth-corpus --profile commands`")
    if not words & set(KEYWORDS):
        log.warning("kws: no keyword in %s; was it generated with --profile commands?", manifest)
    if augment:
        _as_pair("augment_snr", augment_snr)
    counts = {}
    for split, name in (("train", "train"), ("dev", "dev"), ("test", "test_near")):
        part = [r for r in rows if r["split"] == split]
        if not part:
            raise SpeechkitError(f"{manifest}: no utterance in split '{split}'; generate more "
                                 f"speakers (--{split}-speakers)" if split != "train" else
                                 f"{manifest}: no train utterance; generate more speakers")
        words = load_clips(part, split)
        silence = silence_clips(seed, split, num_silence(len(words), silence_fraction))
        set_rows = write_near_set(data_root, name, words + silence)
        counts[name] = write_set(data_root, name, set_rows)
        if split == "train" and augment:
            set_rows += augmented_rows(data_root, words, silence, _pool(words, seed, "train"),
                                       seed, num_rooms, augment_snr)
            counts[MULTI_SET] = write_set(data_root, MULTI_SET, set_rows)
        elif split == "train":
            remove_set(data_root, MULTI_SET)
        if split == "test":
            counts.update(render_far_sets(data_root, words, silence, _pool(words, seed, "test"),
                                          snrs, seed, num_rooms))
    return counts


def _pool(clips, seed, purpose):
    chosen = set(choose_pool([c.utt for c in clips], seed, purpose))
    return [c for c in clips if c.utt in chosen]

"""Data dirs from Google Speech Commands v0.02 (Warden 2018), as the archive unpacks:

    SRC/<word>/<speaker>_nohash_<n>.wav     1 s (some shorter), 16 kHz, 16-bit mono
    SRC/_background_noise_/*.wav            6 long noise recordings (+ a README.md)
    SRC/validation_list.txt                 `right/bb05582b_nohash_3.wav`, one per line
    SRC/testing_list.txt
    SRC/README.md, SRC/LICENSE, SRC/.DS_Store ...    ignored

Splits (the official ones): test = testing_list.txt, dev = validation_list.txt, train = every
other clip of a word directory. The lists keep each speaker in one split.

Labels (`text`): the 10 keywords (yes no up down left right on off stop go) as themselves, the
25 other words as `_unknown_`, and `_silence_` for clips cut from the background noise.
`utt2word` keeps the word directory's name (`_silence_` for silence). No class is rebalanced
here: there are many more `_unknown_` clips than clips of any keyword; training may subsample.

Ids. The speaker is the hash before `_nohash_`; the utterance `<speaker>-<word>-<n>`
(`bb05582b-right-3`), so the speaker id is a prefix of the utterance id. Silence clips have the
speaker `sil` and ids `sil-0001`...

Audio through `segments`. Silence clips are 1 s windows into the background noise recordings,
which Kaldi expresses with a segments file; a data dir has a segments file for all its
utterances or for none, so every word clip also gets one, covering its whole recording:

    wav.scp    bb05582b-right-3 /abs/SRC/right/bb05582b_nohash_3.wav
               noise-white_noise /abs/SRC/_background_noise_/white_noise.wav
    segments   bb05582b-right-3 bb05582b-right-3 0 -1
               sil-0001 noise-white_noise 12.345 13.345

(-1: to the end, as in Kaldi). Nothing is copied. Clips shorter than 1 s stay as they are
(`utt2dur` has their true duration): pad them to 1 s when batching, at the end, as TensorFlow's
Speech Commands pipeline does.

Silence. A set gets as many silence clips as make silence_fraction (10%) of it. Each noise
recording is cut in time, train from its first 80%, dev from the next 10%, test from the last
10%, so no noise sample is shared between splits; clips go round-robin over the recordings
and sit at evenly spaced offsets (rounded to ms) within that part, overlapping where the part
is short (as in the real corpus, where ~9,000 train clips come from ~6 minutes of noise). A part
shorter than 1 s borrows from the neighbouring part (with a warning).

Far field (farfield=true, off by default): test_far_snr<S> for S in snrs (20,10,0), the test
clips (padded to 1 s at the end) through simulated rooms with noise, exactly as for the
embedded corpus (speechkit.corpus.kws.render_far_sets), written as 1 s wav files under
DATA_ROOT/wav/test_far_snr<S>/; without it, far-field sets of an earlier run are removed.
Augmentation (augment=true, off by default): train_multi, the train set plus a far-field copy
of every train clip at an SNR in augment_snr (10-30 dB), rendered to
DATA_ROOT/wav/train_multi/rvb1-<utt>.wav (1 s) with speaker rvb1-<speaker>, whole-file
segments, and `utt2room` (`near` for the originals); as for the embedded corpus (train stays
near field; a rerun without augment removes train_multi). On the full corpus that is ~94,000
files (~3 GB) and several minutes.
Options (`speechkit prepare-corpus --opt NAME=VALUE`): silence_fraction=0.1, farfield=false,
snrs=20,10,0, augment=false, augment_snr=10,30, seed=0, num_rooms=100.
"""
import logging
import re
import shlex
from pathlib import Path

import soundfile as sf

from speechkit.corpus import kws
from speechkit.corpus.registry import register
from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError, where
from speechkit.io import AudioTable, read_segments
from speechkit.progress import progress

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
NOISE_DIR = "_background_noise_"
VALIDATION_LIST = "validation_list.txt"
TESTING_LIST = "testing_list.txt"
NAME_RE = re.compile(r"^([0-9a-f]+)_nohash_([0-9]+)\.wav$")
SPLITS = ("train", "dev", "test")
# The part of every noise recording that each split cuts its silence from.
NOISE_PARTS = {"train": (0.0, 0.8), "dev": (0.8, 0.9), "test": (0.9, 1.0)}
SILENCE_SECONDS = 1.0


def find_root(src):
    """SRC itself, or its single subdirectory, holding both list files."""
    src = Path(src)
    for cand in [src] + (sorted(p for p in src.iterdir() if p.is_dir()) if src.is_dir() else []):
        if (cand / TESTING_LIST).is_file() and (cand / VALIDATION_LIST).is_file():
            return cand
    raise SpeechkitError(f"{src}: no {TESTING_LIST} and {VALIDATION_LIST}; is Speech Commands "
                         f"v0.02 unpacked there? (`local/download_and_untar.sh {src}`)")


def utt_id(word, name):
    """('right', 'bb05582b_nohash_3.wav') -> ('bb05582b-right-3', 'bb05582b')."""
    m = NAME_RE.match(name)
    speaker, n = m.group(1), m.group(2)
    return f"{speaker}-{word}-{n}", speaker


def list_clips(root):
    """{'word/name.wav': path} of every clip in a word directory (names like the corpus's)."""
    clips = {}
    words = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    if not words:
        raise SpeechkitError(f"{root}: no word directories (yes/, no/, ...); is the archive "
                             f"fully unpacked?")
    for word_dir in words:
        if not re.match(r"^[a-z]+$", word_dir.name):
            log.warning("speech_commands: ignoring %s: not a word directory", word_dir)
            continue
        for path in sorted(word_dir.iterdir()):
            if path.is_file() and NAME_RE.match(path.name):
                clips[f"{word_dir.name}/{path.name}"] = path
            else:
                log.warning("speech_commands: ignoring %s: not named <hash>_nohash_<n>.wav", path)
    return clips


def read_list(path, clips):
    """Entries of validation_list.txt / testing_list.txt, each checked against the clips."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            entry = line.strip()
            if not entry:
                continue
            if entry not in clips:
                raise SpeechkitError(f"{where(path, lineno)}: {entry} is listed but not in "
                                     f"{path.parent}; is the archive fully unpacked?")
            entries.append(entry)
    return entries


def split_clips(root, clips):
    """{split: sorted entries}: the official split by the two list files."""
    test = read_list(root / TESTING_LIST, clips)
    dev = read_list(root / VALIDATION_LIST, clips)
    both = set(test) & set(dev)
    if both:
        raise SpeechkitError(f"{root / VALIDATION_LIST}: {sorted(both)[0]} is also in "
                             f"{TESTING_LIST}; the lists must not overlap")
    held_out = set(test) | set(dev)
    return {"train": sorted(e for e in clips if e not in held_out), "dev": sorted(set(dev)),
            "test": sorted(set(test))}


def _info(path):
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise SpeechkitError(f"{path}: cannot read audio header: {e}") from None


def wav_entry(path, rate):
    """The wav.scp value: the path, or a resampling pipe when it is not 16 kHz."""
    if rate == SAMPLE_RATE:
        return str(path)
    return f"speechkit resample --rate {SAMPLE_RATE} {shlex.quote(str(path))} - |"


def noise_recordings(root):
    """[(recording id, path, duration s, wav.scp value)] of the background noise files."""
    noise_dir = root / NOISE_DIR
    if not noise_dir.is_dir():
        raise SpeechkitError(f"{noise_dir}: missing; it holds the noise that `_silence_` is cut "
                             f"from; is the archive fully unpacked?")
    out = []
    for path in sorted(noise_dir.iterdir()):
        if not (path.is_file() and path.suffix == ".wav"):
            continue
        info = _info(path)
        duration = info.frames / info.samplerate
        if duration < SILENCE_SECONDS:
            log.warning("speech_commands: ignoring %s: shorter than %g s", path, SILENCE_SECONDS)
            continue
        rec = "noise-" + re.sub(r"[^A-Za-z0-9_]", "_", path.stem)
        out.append((rec, path.resolve(), duration, wav_entry(path.resolve(), info.samplerate)))
    if not out:
        raise SpeechkitError(f"{noise_dir}: no noise recording of at least {SILENCE_SECONDS:g} s")
    return out


def silence_segments(noises, split, count):
    """[(utt, recording, start, end)]: count 1 s windows, round-robin over the recordings."""
    lo_frac, hi_frac = NOISE_PARTS[split]
    per_rec = [count // len(noises) + (i < count % len(noises)) for i in range(len(noises))]
    windows = []
    for (rec, path, duration, _), m in zip(noises, per_rec):
        lo, hi = lo_frac * duration, hi_frac * duration - SILENCE_SECONDS
        if m and hi < lo:
            log.warning("speech_commands: the %s part of %s is shorter than %g s; its silence "
                        "clips overlap the neighbouring part", split, path, SILENCE_SECONDS)
            lo = hi = max(0.0, min(lo, duration - SILENCE_SECONDS))
        windows.append([round(lo + (hi - lo) * (j + 0.5) / m, 3) for j in range(m)])
    width = max(4, len(str(count)))
    out = []
    for i in range(count):  # round-robin: clip i from recording i mod R
        r = i % len(noises)
        start = windows[r][i // len(noises)]
        out.append((f"{kws.SILENCE_SPEAKER}-{i + 1:0{width}d}", noises[r][0], start,
                    round(start + SILENCE_SECONDS, 3)))
    return out


def datadir_tables(clips, entries, noises, silence):
    tables = {n: {} for n in ("wav.scp", "segments", "text", "utt2spk", "utt2word", "utt2dur")}
    for entry in progress(entries, desc="speech_commands"):
        word, name = entry.split("/")
        path = clips[entry].resolve()
        info = _info(path)
        utt, speaker = utt_id(word, name)
        tables["wav.scp"][utt] = wav_entry(path, info.samplerate)
        tables["segments"][utt] = f"{utt} 0 -1"
        tables["text"][utt] = kws.label_of(word)
        tables["utt2spk"][utt] = speaker
        tables["utt2word"][utt] = word
        tables["utt2dur"][utt] = f"{info.frames / info.samplerate:.4f}"
    used = {rec for _, rec, _, _ in silence}
    for rec, _, _, value in noises:
        if rec in used:
            tables["wav.scp"][rec] = value
    for utt, rec, start, end in silence:
        tables["segments"][utt] = f"{rec} {start:.3f} {end:.3f}"
        tables["text"][utt] = kws.SILENCE
        tables["utt2spk"][utt] = kws.SILENCE_SPEAKER
        tables["utt2word"][utt] = kws.SILENCE
        tables["utt2dur"][utt] = f"{SILENCE_SECONDS:.4f}"
    return tables


class SetReader:
    """1 s clips (kws.Clip, padded at the end) of a data dir written by prepare(), by utterance.

    Recordings are cached, so that the silence clips cut from the same long noise recording
    do not decode it again each time.
    """

    def __init__(self, data_dir, cache_size=16):
        d = Path(data_dir)
        tables = DataDir.load(d)
        self.utt2spk, self.utt2word = tables["utt2spk"], tables["utt2word"]
        self.segments = read_segments(d / "segments")
        self.recordings = AudioTable(d / "wav.scp", sample_rate=SAMPLE_RATE)
        self.cache, self.cache_size = {}, cache_size

    def words(self):
        return [u for u, w in self.utt2word.items() if w != kws.SILENCE]

    def silences(self):
        return [u for u, w in self.utt2word.items() if w == kws.SILENCE]

    def _recording(self, rec):
        if rec not in self.cache:
            if len(self.cache) >= self.cache_size:
                self.cache.pop(next(iter(self.cache)))
            self.cache[rec] = self.recordings[rec][0]
        return self.cache[rec]

    def clip(self, utt):
        seg = self.segments[utt]
        if seg.recording == utt:  # a word clip: its own recording, read once
            wav = self.recordings[utt][0]
        else:
            wav = self._recording(seg.recording)
        start = int(round(seg.start * SAMPLE_RATE))
        end = len(wav) if seg.end < 0 else int(round(seg.end * SAMPLE_RATE))
        return kws.Clip(utt, self.utt2spk[utt], self.utt2word[utt], kws.pad_end(wav[start:end]))

    def clips(self, utts):
        return (self.clip(u) for u in utts)

    def pool(self, seed, purpose):
        return [self.clip(u) for u in kws.choose_pool(self.words(), seed, purpose)]


def multi_condition_tables(data_root, tables, seed, num_rooms, snr_range):
    """The train tables plus far-field copies (rvb1-...) of every train clip (rendered wav
    files): train_multi's tables."""
    reader = SetReader(Path(data_root) / "train")
    rows = kws.augmented_rows(data_root, reader.clips(reader.words()),
                              reader.clips(reader.silences()), reader.pool(seed, "train"),
                              seed, num_rooms, snr_range)
    tables = {name: dict(table) for name, table in tables.items()}
    tables["utt2room"] = {utt: "near" for utt in tables["utt2spk"]}
    for r in rows:
        utt = r["utt"]
        tables["wav.scp"][utt] = str(r["path"])
        tables["segments"][utt] = f"{utt} 0 -1"
        tables["text"][utt] = r["label"]
        tables["utt2spk"][utt] = r["speaker"]
        tables["utt2word"][utt] = r["word"]
        tables["utt2dur"][utt] = f"{kws.CLIP_SAMPLES / SAMPLE_RATE:.4f}"
        tables["utt2room"][utt] = r["room"]
    return tables


@register("speech_commands")
def prepare(src, data_root, silence_fraction=kws.SILENCE_FRACTION, farfield=False,
            snrs=kws.SNRS, augment=kws.AUGMENT, augment_snr=kws.AUGMENT_SNR, seed=kws.SEED,
            num_rooms=kws.NUM_ROOMS):
    """Write train, dev, test (and test_far_snr<S> with farfield) -> {set: utterances}."""
    root = find_root(src)
    clips = list_clips(root)
    splits = split_clips(root, clips)
    noises = noise_recordings(root)
    for split, entries in splits.items():
        if not entries:
            raise SpeechkitError(f"{root}: no clip in split '{split}' (test: {TESTING_LIST}, dev: "
                                 f"{VALIDATION_LIST}, train: the rest); is the corpus complete?")
    if farfield and not snrs:
        raise SpeechkitError("snrs is empty; give e.g. snrs=20,10,0")
    counts = {}
    for split, entries in splits.items():
        silence = silence_segments(noises, split, kws.num_silence(len(entries), silence_fraction))
        dest = Path(data_root) / split
        tables = datadir_tables(clips, entries, noises, silence)
        DataDir(dest, tables).write(dest, replace=True)
        counts[split] = len(entries) + len(silence)
        if split == "train" and augment:
            # The near-field dir is written first: the copies are rendered from it.
            multi = multi_condition_tables(data_root, tables, seed, num_rooms, augment_snr)
            multi_dest = Path(data_root) / kws.MULTI_SET
            DataDir(multi_dest, multi).write(multi_dest, replace=True)
            counts[kws.MULTI_SET] = len(multi["utt2spk"])
        elif split == "train":
            kws.remove_set(data_root, kws.MULTI_SET)
    if not farfield:
        kws.remove_far_sets(data_root)
    else:
        reader = SetReader(Path(data_root) / "test")
        counts.update(kws.render_far_sets(
            data_root, reader.clips(reader.words()), reader.clips(reader.silences()),
            reader.pool(seed, "test"), snrs, seed, num_rooms))
    return counts

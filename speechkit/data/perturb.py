"""Data-dir augmentation as Kaldi's utils/data/perturb_data_dir_*.sh: speed, volume, far field.

speed(FACTOR, SRC, DEST) writes a copy of SRC whose audio plays FACTOR times faster:
  - utterance, speaker and recording ids get the prefix `sp<FACTOR>-` (FACTOR as written);
  - wav.scp entries become pipes through `speechkit wav-speed --factor FACTOR` (Kaldi's
    `sox ... speed FACTOR |`), after the entry's own command when it already was a pipe;
  - utt2dur and reco2dur are divided by FACTOR (printed as awk prints them, %.6g), segment
    times too (%.2f); a segment no longer than 10 ms after that is dropped, as in Kaldi;
  - utt2uniq maps every new id to the original one (through SRC's utt2uniq when it has one);
  - text, spk2gender, utt2lang and the other labels keep their values under the new ids;
  - feats.scp, cmvn.scp and utt2num_frames are not copied: the features must be recomputed.
speed_3way(SRC, DEST) is Kaldi's perturb_data_dir_speed_3way.sh: SRC (ids kept, or prefixed
`sp1.0-` with always_include_prefix) and its 0.9 and 1.1 copies, joined by data.ops.combine.
volume(DATA) appends `speechkit wav-volume --scale S` (Kaldi's `sox --vol S`) to every wav.scp
entry in place, S drawn per recording uniformly from [0.125, 2] by Python's random seeded with 0,
Kaldi's own draw, so reco2vol holds the numbers Kaldi writes; feats.scp is moved to a backup dir.
farfield(SRC, DEST) is a copy heard across a simulated room with background noise, ids prefixed
`rvb1-` (Kaldi's reverberate_data_dir.py --prefix), wav.scp entries through `speechkit
wav-farfield --seed N --snr S --noise KIND|--noise-file FILE`, drawn per recording from (seed,
new id). Kaldi uses measured or pyroomacoustics RIR lists and MUSAN through its own tools
(steps/data/reverberate_data_dir.py, augment_data_dir.py, with other options); this is
speechkit's room simulator (speechkit.corpus.room) and noise kinds, or --noise-dir recordings.

Deliberate differences from Kaldi:
  - SRC is never written. Kaldi adds utt2dur and reco2dur to SRC when they are missing; here they
    are measured (headers of files, pipes run) and written to DEST only.
  - Task extras (utt2emo, utt2snr, ...) are kept; Kaldi copies only text, utt2lang and
    spk2gender. utt2clean, enhancement's clean reference audio, is perturbed like wav.scp so that
    noisy and clean stay aligned.
  - An utterance whose segment is dropped is dropped from every table (Kaldi leaves it in utt2spk,
    which fails validation); a segment end of -1 (to the end of the recording) stays -1.
  - speed, like speed_3way, refuses a DEST that holds feats.scp (features were made there);
    otherwise DEST's old data-dir files are replaced.
  - volume also moves cmvn.scp away (its statistics change with the volume). A dir already
    perturbed (wav.scp pipes through wav-volume or `sox --vol`) is left as it is, as in Kaldi.
  - No --include-spk-prefix false: here a speaker id must be a prefix of its utterance ids.
"""
import logging
import math
import os
import random
import re
import shlex
import shutil
from pathlib import Path

import soundfile as sf

from speechkit.data import ops
from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError, where
from speechkit.io.audio import is_pipe, load_audio, read_segments
from speechkit.io.table import read_dict, read_table, write_table

log = logging.getLogger("speechkit.data")

FEATURE_TABLES = ("feats.scp", "cmvn.scp", "utt2num_frames")
AUDIO_UTT_TABLES = ("utt2clean",)  # per-utterance tables whose values are wav.scp entries
VOLUME_MARKS = ("speechkit wav-volume", "sox --vol")
# Derived here rather than copied: spk2utt (from utt2spk), durations (scaled), utt2uniq (chained).
_DERIVED = ("spk2utt", "utt2dur", "reco2dur", "utt2uniq")
_NUMBER = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?")


def parse_positive(text, what):
    """A number > 0 written as a plain decimal (it becomes part of ids), else a one-line error."""
    text = str(text)
    if not _NUMBER.fullmatch(text) or not 0 < float(text) < math.inf:
        raise SpeechkitError(f"{what} '{text}': must be a number greater than 0, e.g. 0.9")
    return float(text)


def pipe_through(entry, command):
    """A wav.scp entry read through `command IN OUT`: `cmd |` -> `cmd | command - - |`,
    a file -> `command file - |`."""
    entry = entry.strip()
    if is_pipe(entry):
        return f"{entry[:-1].rstrip()} | {command} - - |"
    return f"{command} {entry} - |"


def load_source(src):
    data = DataDir.load(src)
    for name in ("utt2spk", "wav.scp"):
        if name not in data:
            raise SpeechkitError(f"{src}/{name}: no such file; perturbation needs a data dir "
                                 f"with wav.scp and utt2spk")
    return data


def check_dest(src, dest):
    if Path(dest).resolve() == Path(src).resolve():
        raise SpeechkitError(f"{dest}: the destination must differ from the source {src}")
    if (Path(dest) / "feats.scp").is_file():
        raise SpeechkitError(f"{dest}/feats.scp already exists: refusing to overwrite a dir with "
                             f"features (delete {dest}/feats.scp if you want this to run)")


# ---- durations ----------------------------------------------------------------------------

def _seconds(entry, origin):
    """Duration of one wav.scp entry: a file's header, or the audio a pipe writes."""
    if is_pipe(entry):
        wav, sr = load_audio(entry, origin, mono_only=False)
        return len(wav) / sr
    try:
        info = sf.info(entry)
    except (RuntimeError, OSError) as e:
        raise SpeechkitError(f"{origin}: cannot read the audio file {entry} ({e}); fix the "
                             f"path") from None
    return info.frames / info.samplerate


def durations(data):
    """{'utt2dur': {utt: seconds}, 'reco2dur': {rec: seconds}} as text: the tables of the data dir
    when it has them, measured otherwise (as Kaldi's get_utt2dur.sh, get_reco2dur.sh)."""
    wav_scp = data.path / "wav.scp"
    reco2dur = data["reco2dur"] if "reco2dur" in data else {
        rec: f"{_seconds(entry, where(wav_scp, key=rec)):.6g}"
        for rec, entry in data["wav.scp"].items()}
    if "utt2dur" in data:
        utt2dur = data["utt2dur"]
    elif data.has_segments:
        utt2dur = {utt: f"{_segment_seconds(seg, reco2dur):.6g}"
                   for utt, seg in read_segments(data.path / "segments").items()}
    else:
        utt2dur = dict(reco2dur)
    return {"utt2dur": utt2dur, "reco2dur": reco2dur}


def _segment_seconds(seg, reco2dur):
    end = seg.end if seg.end >= 0 else float(reco2dur[seg.recording])  # -1: to the end
    return end - seg.start


def _scaled(table, name, factor):
    """Durations divided by factor, printed as awk prints numbers (%.6g)."""
    out = {}
    for key, value in table.items():
        try:
            out[key] = f"{float(value) / factor:.6g}"
        except ValueError:
            raise SpeechkitError(f"{where(name, key=key)}: '{value}' is not a number of "
                                 f"seconds") from None
    return out


# ---- speed --------------------------------------------------------------------------------

def _segments(data, rename, factor):
    """Segments on renamed recordings; with a factor, times / factor as Kaldi prints them
    (%.2f), and those of 10 ms or less dropped, as Kaldi does."""
    if factor is None:
        return {rename(utt): f"{rename(value.split()[0])} {value.split(maxsplit=1)[1]}"
                for utt, value in data["segments"].items()}
    out = {}
    for utt, seg in read_segments(data.path / "segments").items():
        start, end = seg.start / factor, seg.end / factor
        if seg.end < 0:
            out[rename(utt)] = f"{rename(seg.recording)} {start:.2f} -1"
        elif end > start + 0.01:
            out[rename(utt)] = f"{rename(seg.recording)} {start:.2f} {end:.2f}"
    return out


def renamed(data, durs, prefix, pipes=None, factor=None):
    """The tables of `data` with every id prefixed; durations and segment times / factor (kept
    as written when factor is None); pipes: {table: key -> command} audio is read through."""
    rename = lambda key: prefix + key  # noqa: E731
    pipes = pipes or {}
    tables = {}
    for name, table in data.tables.items():
        if name in FEATURE_TABLES + _DERIVED:
            continue
        if name == "utt2spk":
            tables[name] = {rename(u): rename(s) for u, s in table.items()}
        elif name == "segments":
            tables[name] = _segments(data, rename, factor)
        elif name in pipes:
            tables[name] = {rename(k): pipe_through(v, pipes[name](k)) for k, v in table.items()}
        else:
            tables[name] = {rename(k): v for k, v in table.items()}
    for name, table in durs.items():
        scaled = table if factor is None else _scaled(table, data.path / name, factor)
        tables[name] = {rename(k): v for k, v in scaled.items()}
    uniq = data["utt2uniq"] if "utt2uniq" in data else {}
    tables["utt2uniq"] = {rename(u): uniq.get(u, u) for u in data["utt2spk"]}
    out = DataDir(data.path, tables)
    if "segments" in tables and len(tables["segments"]) < len(tables["utt2spk"]):
        dropped = len(tables["utt2spk"]) - len(tables["segments"])
        log.warning("speed %g: %d segments of %s are 10 ms or shorter, dropped", factor,
                    dropped, data.path)
        out = out.subset(tables["segments"])
    return out


def _write_speed(data, durs, factor_text, dest):
    factor = parse_positive(factor_text, "speed factor")
    command = f"speechkit wav-speed --factor {factor_text}"
    pipes = {name: lambda key: command for name in ("wav.scp",) + AUDIO_UTT_TABLES}
    out = renamed(data, durs, f"sp{factor_text}-", pipes, factor)
    out.write(dest, src=data.path, replace=True)
    return len(out["utt2spk"])


def speed(factor_text, src, dest):
    """Kaldi's perturb_data_dir_speed.sh FACTOR SRC DEST. -> utterances written."""
    parse_positive(factor_text, "speed factor")
    data = load_source(src)
    check_dest(src, dest)
    return _write_speed(data, durations(data), factor_text, dest)


def speed_3way(src, dest, always_include_prefix=False):
    """Kaldi's perturb_data_dir_speed_3way.sh SRC DEST: SRC, 0.9 and 1.1 combined in DEST.

    The parts are written to DEST_speed1.0, DEST_speed0.9, DEST_speed1.1 and removed after the
    combination, as Kaldi does; an interrupted run leaves them, and a rerun rewrites them.
    """
    data = load_source(src)
    check_dest(src, dest)
    dest = Path(dest)
    durs = durations(data)
    parts = {f: dest.with_name(f"{dest.name}_speed{f}") for f in ("1.0", "0.9", "1.1")}
    prefix = "sp1.0-" if always_include_prefix else ""
    renamed(data, durs, prefix).write(parts["1.0"], src=src, replace=True)
    for factor in ("0.9", "1.1"):
        _write_speed(data, durs, factor, parts[factor])
    total = ops.combine(dest, list(parts.values()))
    for part in parts.values():
        shutil.rmtree(part)
    return total


# ---- volume -------------------------------------------------------------------------------

def volume_perturbed(wav_scp):
    """True when a wav.scp entry already pipes through a volume change (ours or Kaldi's sox)."""
    return any(mark in entry for entry in wav_scp.values() for mark in VOLUME_MARKS)


def _draw_volumes(recordings, low, high, seed):
    """Kaldi's draw: random.seed(0), one random.uniform(low, high) per line of wav.scp."""
    rng = random.Random(seed)
    return {rec: rng.uniform(low, high) for rec in recordings}


def _read_volumes(path, recordings):
    volumes = {}
    for lineno, (rec, value) in enumerate(read_table(path), 1):
        volumes[rec] = parse_positive(value, f"{where(path, lineno, rec)}: volume")
    missing = [rec for rec in recordings if rec not in volumes]
    if missing:
        raise SpeechkitError(f"{path}: no volume for recording {missing[0]} ({len(missing)} "
                             f"missing); give one `<recording> <scale>` line per line of wav.scp")
    return {rec: volumes[rec] for rec in recordings}


def _move_features(path):
    """feats.scp and cmvn.scp no longer match the audio: move them to a free backup dir."""
    stale = [name for name in ("feats.scp", "cmvn.scp") if (path / name).is_file()]
    if not stale:
        return None
    backup = ops._free_backup_dir(path)
    backup.mkdir()
    for name in stale:
        os.replace(path / name, backup / name)
    return backup


def _volume_pipe(entry, scale):
    return pipe_through(entry, f"speechkit wav-volume --scale {scale}")


def _perturb_clean_volume(path, volumes):
    """utt2clean at the volume of its recording, unless an interrupted run did it already."""
    clean = read_dict(path / "utt2clean") if (path / "utt2clean").is_file() else {}
    if not clean or volume_perturbed(clean):
        return
    segments = read_segments(path / "segments") if (path / "segments").is_file() else {}
    rec_of = {utt: seg.recording for utt, seg in segments.items()}
    write_table(path / "utt2clean", {utt: _volume_pipe(entry, volumes[rec_of.get(utt, utt)])
                                     for utt, entry in clean.items()})


def volume(path, scale_low=0.125, scale_high=2.0, reco2vol=None, seed=0):
    """Kaldi's perturb_data_dir_volume.sh DATA, in place. -> (recordings changed, backup dir).

    (0, None) when DATA was already perturbed. wav.scp is written last: until then a rerun
    starts over, and after it a rerun finds the pipes and does nothing.
    """
    path = Path(path)
    if not (path / "wav.scp").is_file():
        raise SpeechkitError(f"{path}/wav.scp: no such file; volume perturbation changes wav.scp")
    if not 0 < scale_low <= scale_high < math.inf:
        raise SpeechkitError(f"--scale-low {scale_low} --scale-high {scale_high}: need "
                             f"0 < low <= high")
    wav = read_dict(path / "wav.scp")
    if volume_perturbed(wav):
        return 0, None
    volumes = (_read_volumes(reco2vol, wav) if reco2vol
               else _draw_volumes(wav, scale_low, scale_high, seed))
    write_table(path / "reco2vol", volumes)
    _perturb_clean_volume(path, volumes)
    backup = _move_features(path)
    write_table(path / "wav.scp", {rec: _volume_pipe(entry, volumes[rec])
                                   for rec, entry in wav.items()})
    return len(wav), backup


# ---- far field: a room and background noise ----------------------------------------------

NOISE_SUFFIXES = (".wav", ".flac")


def noise_recordings(noise_dir):
    """Every .wav/.flac under noise_dir (e.g. musan/noise), as sorted absolute paths."""
    root = Path(noise_dir)
    if not root.is_dir():
        raise SpeechkitError(f"--noise-dir {noise_dir}: no such directory; give the folder of "
                             f"your noise recordings (e.g. musan/noise)")
    files = sorted(str(p.resolve()) for p in root.rglob("*")
                   if p.is_file() and p.suffix.lower() in NOISE_SUFFIXES)
    if not files:
        raise SpeechkitError(f"--noise-dir {noise_dir}: no .wav or .flac file under it")
    return files


def farfield_command(key, seed, snrs, noises, noise_flag="--noise"):
    """The `speechkit wav-farfield` stage of one recording. Its room seed, SNR and noise are
    drawn from (seed, key) alone, so adding or removing recordings changes no other."""
    rng = random.Random(f"{seed}:{key}")
    command = f"speechkit wav-farfield --seed {rng.randrange(2 ** 31)}"
    if not snrs:
        return command
    return f"{command} --snr {rng.choice(snrs)} {noise_flag} {shlex.quote(rng.choice(noises))}"


def farfield(src, dest, prefix="rvb1", snrs=("20", "15", "10", "5", "0"),
             noise_kinds=("white", "pink", "brown", "hum"), noise_dir=None, seed=0):
    """A copy of SRC heard across a simulated room, with background noise at one of `snrs`
    (none when empty): ids prefixed `<prefix>-` (Kaldi's reverberate_data_dir.py --prefix),
    wav.scp entries through `speechkit wav-farfield`. -> utterances written.

    The noise is one of noise_kinds, or one of the recordings under noise_dir. Lengths do not
    change, so durations and segments are copied; utt2clean stays the dry clean reference.
    """
    if not prefix or any(c.isspace() for c in prefix):
        raise SpeechkitError(f"--prefix '{prefix}': give a word without spaces, e.g. rvb1")
    data = load_source(src)
    check_dest(src, dest)
    noises, flag = ((noise_recordings(noise_dir), "--noise-file") if noise_dir
                    else (list(noise_kinds), "--noise"))
    # The new id is the key: copies under other prefixes (rvb1, rvb2, ...) get other rooms.
    commands = {rec: farfield_command(f"{prefix}-{rec}", seed, list(snrs), noises, flag)
                for rec in data["wav.scp"]}
    durs = {name: data[name] for name in ("utt2dur", "reco2dur") if name in data}
    out = renamed(data, durs, f"{prefix}-", {"wav.scp": commands.__getitem__})
    out.write(dest, src=src, replace=True)
    return len(out["utt2spk"])

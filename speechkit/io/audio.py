"""Audio through wav.scp: plain paths, piped commands (`sox x.flac -t wav - |`) and segments.

Every failure names the table, the key and what to do, because in a 10,000-line wav.scp the
key is the only thing a user can act on.

Audio shorter than it should be (a wav whose header promises more samples than the file holds,
a pipe that emits a short wav, a segment that ends past the end of its recording) is cut with a
warning naming the key and the shortfall when that is under `max_shortfall` seconds (default
0.5 s, as Kaldi's extract-segments --max-overshoot), and is an error from there on.

Pipes made only of `speechkit wav-*` commands (speed, volume, far-field copies) run in this
process, with the same result: see speechkit.io.inprocess (SPEECHKIT_NO_INPROCESS_PIPES=1: bash).
"""
import io
import logging
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from speechkit.errors import SpeechkitError, where
from speechkit.io import inprocess
from speechkit.io.atomic import atomic_write_bytes
from speechkit.io.table import read_table

log = logging.getLogger("speechkit.audio")

MAX_SHORTFALL = 0.5
# A wav header written to a pipe cannot hold the length: 0, 0xFFFFFFFF (Kaldi's stream mode)
# or sox's placeholder 0x7ffff000 and above mean "read to the end".
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
_PLACEHOLDER_SIZE = 0x7FFFF000


@dataclass(frozen=True)
class Segment:
    """A piece of a recording, in seconds; end < 0 means to the end (Kaldi's -1)."""
    recording: str
    start: float
    end: float


def is_pipe(spec):
    return spec.rstrip().endswith("|")


def declared_frames(head):
    """Frames a RIFF/RIFX wav header says its data chunk holds; None if unknown or not a wav.

    `head` is the start of the file (the data chunk's header must be in it).
    """
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    endian = "<" if head[:4] == b"RIFF" else ">"
    pos, block_align = 12, None
    while pos + 8 <= len(head):
        chunk, (size,) = head[pos:pos + 4], struct.unpack(endian + "I", head[pos + 4:pos + 8])
        if chunk == b"fmt " and pos + 22 <= len(head):
            (block_align,) = struct.unpack(endian + "H", head[pos + 20:pos + 22])
        if chunk == b"data":
            if size in _UNKNOWN_SIZES or size >= _PLACEHOLDER_SIZE or not block_align:
                return None
            return size // block_align
        pos += 8 + size + (size & 1)
    return None


def _libsndfile_reason(error):
    """libsndfile's own words, without the repr of an in-memory buffer."""
    return getattr(error, "error_string", None) or str(error)


def decode_audio(data, origin, max_shortfall=MAX_SHORTFALL):
    """(samples (frames, channels), rate) of wav bytes or a file, checked against its header."""
    try:
        if isinstance(data, bytes):
            head = data[:65536]
            wav, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        else:
            with open(data, "rb") as f:
                head = f.read(65536)
            wav, sr = sf.read(data, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        what = (f"the command's output is not audio (it starts with {data[:12]!r}); the command "
                f"must write a whole audio file to stdout, e.g. `sox in.flac -t wav - |`"
                if isinstance(data, bytes) else "not an audio file libsndfile can read")
        raise SpeechkitError(f"{origin}: cannot decode audio ({_libsndfile_reason(e)}): "
                             f"{what}") from None
    if len(wav) == 0:
        raise SpeechkitError(f"{origin}: the audio holds no samples (empty audio); remove the "
                             f"recording or re-create it")
    expected = declared_frames(head)
    if expected is not None and len(wav) < expected:
        missing = expected - len(wav)
        check_shortfall(missing, sr,
                        f"{origin}: truncated audio: the wav header promises {expected / sr:.3f} s, "
                        f"the data holds {len(wav) / sr:.3f} s ({missing / sr:.3f} s, {missing} "
                        f"samples missing)",
                        "re-create or re-download it, or remove the recording",
                        "using the samples present", max_shortfall)
    return wav, sr


def check_shortfall(missing, sr, text, fix, cut, max_shortfall=MAX_SHORTFALL):
    """Warn about `missing` samples (text names the key); an error from max_shortfall seconds on.

    Kaldi's rule (extract-segments): short by max_shortfall or more is rejected.
    """
    if missing <= 0:
        return
    if missing >= int(max_shortfall * sr):
        raise SpeechkitError(f"{text}, not less than the {max_shortfall:g} s tolerated; {fix}")
    log.warning("%s; %s", text, cut)


def _pipe_failed(origin, code, stderr):
    msg = stderr.strip().splitlines()
    detail = f": {msg[-1]}" if msg else ""
    return SpeechkitError(f"{origin}: command failed with code {code}{detail}; "
                          f"run it by hand to see why")


def _run_pipe(command, origin):
    # A chain of speechkit wav-* commands runs in this process (same bytes, no start-ups).
    try:
        data = inprocess.pipe_output(command, decode_audio)
    except inprocess.CommandFailed as e:
        raise _pipe_failed(origin, e.code, e.stderr) from None
    if data is not None:
        return data
    proc = subprocess.run(["bash", "-c", "set -o pipefail; " + command.rstrip()[:-1]],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise _pipe_failed(origin, proc.returncode, proc.stderr.decode(errors="replace"))
    if not proc.stdout:
        raise SpeechkitError(f"{origin}: command wrote no audio")
    return proc.stdout


def load_audio(spec, origin, sample_rate=None, mono_only=True, max_shortfall=MAX_SHORTFALL):
    """Load a wav.scp value (path or pipe) as float32 samples in [-1, 1], shape (samples,).

    `origin` names the table line in errors. A different sample rate, or more than one channel,
    is an error rather than a silent resample/downmix: Kaldi users expect data prep to fix it.
    """
    if not spec.strip():
        raise SpeechkitError(f"{origin}: no audio path or command after the key; each line is "
                             f"`<recording-id> <file>` or `<recording-id> <command> |`")
    if is_pipe(spec):
        wav, sr = decode_audio(_run_pipe(spec, origin), origin, max_shortfall)
    else:
        if not Path(spec).is_file():
            raise SpeechkitError(f"{origin}: audio file {spec} does not exist")
        wav, sr = decode_audio(spec, origin, max_shortfall)
    if sample_rate is not None and sr != sample_rate:
        raise SpeechkitError(f"{origin}: sample rate {sr} Hz, expected {sample_rate} Hz; resample "
                             f"in wav.scp, e.g. `sox {spec} -r {sample_rate} -t wav - |`")
    if mono_only and wav.shape[1] != 1:
        raise SpeechkitError(f"{origin}: {wav.shape[1]} channels, expected 1; pick one in wav.scp, "
                             f"e.g. `sox {spec} -t wav - remix 1 |`")
    return wav[:, 0] if mono_only else wav, sr


def read_segments(path):
    """segments table -> {utt: Segment}."""
    out = {}
    for lineno, (utt, value) in enumerate(read_table(path), 1):
        fields = value.split()
        try:
            rec, start, end = fields[0], float(fields[1]), float(fields[2])
        except (IndexError, ValueError):
            raise SpeechkitError(f"{where(path, lineno, utt)}: expected `<utt> <recording> <start> "
                                 f"<end>` in seconds") from None
        if start < 0 or (end >= 0 and end <= start):
            raise SpeechkitError(f"{where(path, lineno, utt)}: bad times {start} {end}")
        out[utt] = Segment(rec, start, end)
    return out


class AudioTable:
    """Random access and iteration over the utterances of a wav.scp (and optional segments).

    With segments, keys are utterance ids and recordings are read once per group of
    consecutive segments from the same recording. Audio short of what its header or segment
    promises by at most `max_shortfall` seconds is cut with a warning; more is an error.
    """

    def __init__(self, wav_scp, segments=None, sample_rate=None, max_shortfall=MAX_SHORTFALL):
        self.wav_scp = Path(wav_scp)
        pairs = read_table(self.wav_scp)
        for lineno, (rec, value) in enumerate(pairs, 1):
            if not value:
                raise SpeechkitError(f"{where(self.wav_scp, lineno, rec)}: no audio path or "
                                     f"command after the key; each line is `<recording-id> "
                                     f"<file>` or `<recording-id> <command> |`")
        self.recordings = dict(pairs)
        self.sample_rate = sample_rate
        self.max_shortfall = max_shortfall
        self.segments_path = segments
        self.segments = read_segments(segments) if segments else None
        if self.segments:
            for utt, seg in self.segments.items():
                if seg.recording not in self.recordings:
                    raise SpeechkitError(f"{where(segments, key=utt)}: recording {seg.recording} "
                                         f"is not in {self.wav_scp}")

    def keys(self):
        return list(self.segments or self.recordings)

    def __len__(self):
        return len(self.segments or self.recordings)

    def _recording(self, rec):
        return load_audio(self.recordings[rec], where(self.wav_scp, key=rec), self.sample_rate,
                          max_shortfall=self.max_shortfall)

    def __getitem__(self, key):
        """(samples, sample_rate) of one utterance."""
        if self.segments is None:
            if key not in self.recordings:
                raise SpeechkitError(f"{self.wav_scp}: no key {key}")
            return self._recording(key)
        seg = self.segments[key]
        wav, sr = self._recording(seg.recording)
        return self._cut(wav, sr, seg, key), sr

    def _cut(self, wav, sr, seg, key):
        """The samples of a segment; an end past the recording is cut (warning) or an error."""
        origin = where(self.segments_path, key=key)
        start = int(round(seg.start * sr))
        end = len(wav) if seg.end < 0 else int(round(seg.end * sr))
        if start >= len(wav):
            raise SpeechkitError(f"{origin}: starts at {seg.start}s, after the end of recording "
                                 f"{seg.recording} ({len(wav) / sr:.3f} s); fix the segment "
                                 f"times or the recording")
        missing = end - len(wav)
        check_shortfall(missing, sr,
                        f"{origin}: the segment ends at {seg.end:g} s, {missing / sr:.3f} s "
                        f"({missing} samples) past the end of recording {seg.recording} "
                        f"({len(wav) / sr:.3f} s)",
                        "fix the segment times or the recording (Kaldi's extract-segments "
                        "rejects it too)", "cut at the end of the recording", self.max_shortfall)
        return np.ascontiguousarray(wav[start:end])

    def items(self):
        """Yield (utt, samples, sample_rate) in table order, reading each recording once."""
        if self.segments is None:
            for rec in self.recordings:
                wav, sr = self._recording(rec)
                yield rec, wav, sr
            return
        cached = (None, None, None)
        for utt, seg in self.segments.items():
            if cached[0] != seg.recording:
                cached = (seg.recording, *self._recording(seg.recording))
            _, wav, sr = cached
            yield utt, self._cut(wav, sr, seg, utt), sr


def resample(samples, rate, new_rate):
    """samples (frames[, channels]) from `rate` to `new_rate` Hz with soxr; float32 out."""
    if rate == new_rate or len(samples) == 0:
        return np.asarray(samples, dtype=np.float32)
    import soxr  # noqa: PLC0415 - only the resampling paths need it
    return np.asarray(soxr.resample(samples, rate, new_rate, quality="HQ"), dtype=np.float32)


def change_speed(samples, rate, factor):
    """samples played `factor` times faster at the same rate (sox speed): resampled from
    rate*factor to rate."""
    return resample(samples, rate * factor, rate)


def write_wav(path, samples, sample_rate):
    """16-bit PCM wav, the format Kaldi tools and sox expect by default; written atomically."""
    kind = Path(path).suffix.lstrip(".").upper()
    buf = io.BytesIO()
    sf.write(buf, samples, sample_rate, subtype="PCM_16",
             format=kind if kind in sf.available_formats() else "WAV")
    atomic_write_bytes(path, buf.getvalue())


def wav_scp_path(rspecifier):
    """'scp:data/x/wav.scp' -> the path: audio is read from a wav.scp file, never a pipe of arks."""
    head, _, target = rspecifier.partition(":")
    if head.split(",")[0] != "scp" or not target or target == "-":
        raise SpeechkitError(f"bad audio rspecifier '{rspecifier}': expected scp:path/to/wav.scp")
    return target

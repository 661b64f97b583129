"""Audio through wav.scp: plain paths, piped commands (`sox x.flac -t wav - |`) and segments.

Every failure names the table, the key and what to do, because in a 10,000-line wav.scp the
key is the only thing a user can act on.
"""
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from speechkit.errors import SpeechkitError, where
from speechkit.io.table import read_table


@dataclass(frozen=True)
class Segment:
    """A piece of a recording, in seconds; end < 0 means to the end (Kaldi's -1)."""
    recording: str
    start: float
    end: float


def is_pipe(spec):
    return spec.rstrip().endswith("|")


def _decode(data, origin):
    try:
        wav, sr = sf.read(io.BytesIO(data) if isinstance(data, bytes) else data,
                          dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise SpeechkitError(f"{origin}: cannot decode audio: {e}") from None
    return wav, sr


def _run_pipe(command, origin):
    proc = subprocess.run(["bash", "-c", "set -o pipefail; " + command.rstrip()[:-1]],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        detail = f": {msg[-1]}" if msg else ""
        raise SpeechkitError(f"{origin}: command failed with code {proc.returncode}{detail}; "
                             f"run it by hand to see why")
    if not proc.stdout:
        raise SpeechkitError(f"{origin}: command wrote no audio")
    return proc.stdout


def load_audio(spec, origin, sample_rate=None, mono_only=True):
    """Load a wav.scp value (path or pipe) as float32 samples in [-1, 1], shape (samples,).

    `origin` names the table line in errors. A different sample rate, or more than one channel,
    is an error rather than a silent resample/downmix: Kaldi users expect data prep to fix it.
    """
    if is_pipe(spec):
        wav, sr = _decode(_run_pipe(spec, origin), origin)
    else:
        if not Path(spec).is_file():
            raise SpeechkitError(f"{origin}: audio file {spec} does not exist")
        wav, sr = _decode(spec, origin)
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
    consecutive segments from the same recording.
    """

    def __init__(self, wav_scp, segments=None, sample_rate=None):
        self.wav_scp = Path(wav_scp)
        self.recordings = dict(read_table(self.wav_scp))
        self.sample_rate = sample_rate
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
        return load_audio(self.recordings[rec], where(self.wav_scp, key=rec), self.sample_rate)

    def __getitem__(self, key):
        """(samples, sample_rate) of one utterance."""
        if self.segments is None:
            if key not in self.recordings:
                raise SpeechkitError(f"{self.wav_scp}: no key {key}")
            return self._recording(key)
        seg = self.segments[key]
        wav, sr = self._recording(seg.recording)
        return self._cut(wav, sr, seg, key), sr

    @staticmethod
    def _cut(wav, sr, seg, key):
        start = int(round(seg.start * sr))
        end = len(wav) if seg.end < 0 else int(round(seg.end * sr))
        if start >= len(wav):
            raise SpeechkitError(f"segments (key {key}): starts at {seg.start}s, after the end of "
                                 f"{seg.recording} ({len(wav) / sr:.2f}s)")
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


def write_wav(path, samples, sample_rate):
    """16-bit PCM wav, the format Kaldi tools and sox expect by default."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, sample_rate, subtype="PCM_16")


def wav_scp_path(rspecifier):
    """'scp:data/x/wav.scp' -> the path: audio is read from a wav.scp file, never a pipe of arks."""
    head, _, target = rspecifier.partition(":")
    if head.split(",")[0] != "scp" or not target or target == "-":
        raise SpeechkitError(f"bad audio rspecifier '{rspecifier}': expected scp:path/to/wav.scp")
    return target

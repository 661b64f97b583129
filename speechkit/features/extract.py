"""Feature extraction: one waveform (`compute`) or a whole wav.scp into an ark/scp (`extract_table`).

`compute` is what one-command inference calls on audio it already has; `extract_table` is the
loop of `speechkit compute-feats`: AudioTable -> feature function -> MatrixWriter. The writer
commits only when every utterance succeeded, so a failure leaves the previous ark/scp as they were.
"""
import logging

from speechkit.errors import SpeechkitError, where
from speechkit.features import kaldi
from speechkit.features.config import resolve
from speechkit.features.pcen import pcen_fbank
from speechkit.features.tables import write_scalar_table
from speechkit.io import MatrixWriter
from speechkit.progress import progress

log = logging.getLogger(__name__)

FEATURES = {"fbank": kaldi.fbank, "mfcc": kaldi.mfcc, "spectrogram": kaldi.spectrogram,
            "pcen": pcen_fbank}


def compute(kind, options, waveform, sample_rate):
    """Features of one mono waveform (float in [-1, 1]) as a float32 (frames, dims) matrix."""
    options = resolve(kind, options)
    if sample_rate != options["sample_frequency"]:
        raise SpeechkitError(f"sample rate {sample_rate} Hz, but the feature config has "
                             f"sample_frequency {options['sample_frequency']:g}")
    return FEATURES[kind](waveform, options)


def extract_table(frontend, audio, wspecifier, utt2num_frames=None):
    """Write the features a front-end (speechkit.features.frontend) computes of every utterance
    of an AudioTable to `wspecifier`.

    Utterances shorter than the options' min_duration (Kaldi types) are skipped with a warning,
    as Kaldi does. Returns ({utt: num_frames}, [skipped utts]); `utt2num_frames` (a path or
    ark,t:PATH) gets the first.
    """
    min_duration = frontend.options.get("min_duration", 0.0)
    frames, skipped = {}, []
    with MatrixWriter(wspecifier) as writer:
        for key, wav, sr in progress(audio.items(), desc=f"{frontend.kind} features", total=len(audio)):
            if len(wav) < min_duration * sr:
                log.warning("%s: %.3f s is shorter than min_duration %g s; skipped",
                            where(audio.wav_scp, key=key), len(wav) / sr, min_duration)
                skipped.append(key)
                continue
            try:
                feats = frontend(wav, sr)
            except SpeechkitError as e:
                raise SpeechkitError(f"{where(audio.wav_scp, key=key)}: {e}") from None
            writer.write(key, feats)
            frames[key] = len(feats)
        if not frames:
            raise SpeechkitError(f"{audio.wav_scp}: no utterance was long enough to keep")
    if utt2num_frames:
        write_scalar_table(utt2num_frames, frames.items())
    return frames, skipped

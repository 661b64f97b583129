"""Feature front-ends by type: what turns a waveform into the matrices a model sees.

A typed feature config (`feats.yaml`: a `type:` line plus options) names its front-end. Training
reads it from the data dir and copies it into the model dir; inference reads the copy; so a
user's wav gets exactly the features the model was trained on. A front-end has `sample_rate`,
`dim` and `__call__(waveform, sample_rate) -> (frames, dim) float32`. Register a new type with
@FRONTENDS.register("name") on a class built as cls(options, origin).
"""
import functools

import numpy as np

from speechkit.errors import SpeechkitError
from speechkit.features.config import KINDS, read_typed, resolve
from speechkit.registry import Registry

# torch and librosa are imported where features are computed, so that reading a config
# (`compute-feats --print-config`, `--help`) starts in a second.

FRONTENDS = Registry("feature type")


class KaldiFrontend:
    """fbank, mfcc, spectrogram and static PCEN, with Kaldi's options."""

    def __init__(self, kind, options, origin="feature options"):
        self.kind = kind
        self.options = resolve(self.kind, options, origin)
        self.sample_rate = int(self.options["sample_frequency"])

    def __call__(self, waveform, sample_rate):
        from speechkit.features.extract import compute
        return compute(self.kind, self.options, waveform, sample_rate)

    @property
    def dim(self):
        """Feature dimension, from half a second of silence."""
        return self(np.zeros(self.sample_rate // 2, np.float32), self.sample_rate).shape[1]


for _kind in KINDS:
    FRONTENDS.register(_kind)(functools.partial(KaldiFrontend, _kind))


@FRONTENDS.register("waveform")
class WaveformFrontend:
    """The samples themselves, as a (samples, 1) matrix: for tasks that own their STFT."""
    kind = "waveform"
    dim = 1

    def __init__(self, options, origin="feature options"):
        self.sample_rate = int(options.get("sample_frequency", 16000))
        self.options = {"sample_frequency": self.sample_rate}

    def __call__(self, waveform, sample_rate):
        return np.asarray(waveform, np.float32)[:, None]


@FRONTENDS.register("stft")
class STFTFrontend:
    """Compressed STFT magnitude |X|^compression, (frames, n_fft/2 + 1): librosa.stft with a
    Hann window, centred frames and zero padding, as the multi-time-scale convolution authors'
    input (n_fft 1024, hop 512 at 16 kHz, compression 2/3)."""
    kind = "stft"
    DEFAULTS = {"sample_frequency": 16000, "n_fft": 1024, "hop_length": 512, "compression": 2 / 3}

    def __init__(self, options, origin="feature options"):
        unknown = sorted(set(options) - set(self.DEFAULTS))
        if unknown:
            raise SpeechkitError(f"{origin}: unknown stft option {unknown[0]}; known: "
                                 f"{', '.join(self.DEFAULTS)}")
        self.options = {**self.DEFAULTS, **options}
        for name in ("sample_frequency", "n_fft", "hop_length"):
            if not (isinstance(self.options[name], (int, float)) and self.options[name] > 0):
                raise SpeechkitError(f"{origin}: stft option {name} must be a positive number")
        self.sample_rate = int(self.options["sample_frequency"])
        self.dim = int(self.options["n_fft"]) // 2 + 1

    def __call__(self, waveform, sample_rate):
        if sample_rate != self.sample_rate:
            raise SpeechkitError(f"sample rate {sample_rate} Hz, but the feature config has "
                                 f"sample_frequency {self.sample_rate}")
        import librosa
        spec = np.abs(librosa.stft(np.asarray(waveform, np.float32), n_fft=int(self.options["n_fft"]),
                                   hop_length=int(self.options["hop_length"]), window="hann",
                                   center=True, pad_mode="constant"))
        return (spec ** float(self.options["compression"])).T.astype(np.float32)


def load_frontend(path):
    """The front-end a typed feature config file describes."""
    kind, options = read_typed(path)
    return FRONTENDS.get(kind)(options, str(path))

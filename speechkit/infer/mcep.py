"""Mel-cepstral resynthesis and voice conversion with a trained mcep model (VAE, LSTM-AE, baselines).

    speechkit infer mcep --model exp/train_vae_seed1 in.wav -o out/      (out/in.wav)
    McepResynthesis("exp/train_cvae_seed1", target_speaker="s003")(wav, 16000) -> wav

WORLD analysis (the model dir's feats.yaml) -> c1..c{order} normalised with the training
mean/std -> the model's reconstruction (a speaker-conditioned VAE decodes with the target
speaker's code to convert) -> de-normalised, the original c0 put back -> optional GV
post-filter (per utterance and dimension >= 1, deviations scaled to the training GV: the
target speaker's when converting, else the whole training set's) -> log-F0 moved from the
source's mean/std to the target's when converting (voiced frames; band aperiodicity kept) ->
WORLD synthesis.

A vocoder needs three streams, not one feature matrix, so `from_features` takes `Analysis`
items (raw mcep, lf0, bap and the speaker when known); `speechkit infer` analyses the user's
audio into one, `speechkit mcep-reconstruct` reads them from a data dir's feats.scp, lf0.scp
and bap.scp; both then run the same code.
"""
from dataclasses import dataclass

import numpy as np

from speechkit.errors import SpeechkitError
from speechkit.features.mcep_frontend import (GLOBAL, convert_lf0, read_gv, require_voiced)
from speechkit.infer.registry import INFERENCE, Inference
from speechkit.metrics.mcd import gv_postfilter


@dataclass
class Analysis:
    mcep: np.ndarray      # (T, order+1) raw mel-cepstrum, c0 first
    lf0: np.ndarray       # (T, 1) log F0, 0 when unvoiced
    bap: np.ndarray       # (T, bands) band aperiodicity
    speaker: str = None   # the source speaker, when known (data dirs)


@dataclass
class Output:
    mcep: np.ndarray      # (T, order+1) reconstruction (or conversion), original c0
    mcep_gv: np.ndarray   # the same after the GV post-filter
    lf0: np.ndarray       # (T, 1) log F0 for synthesis (converted when converting)


MCEP_TASKS = ("mcep_vae", "mcep_seq_ae", "mcep_baseline")


@INFERENCE.register("mcep")
@INFERENCE.register("mcep_vae")
@INFERENCE.register("mcep_seq_ae")
@INFERENCE.register("mcep_baseline")
class McepResynthesis(Inference):
    output = "wav"

    def __init__(self, model_dir, checkpoint="ave.pt", device="cpu", task=None,
                 target_speaker=None, gv=False):
        """`target_speaker`: convert to this training speaker (a speaker-conditioned model);
        `gv`: apply the GV post-filter to what `from_features` and `__call__` return."""
        # `speechkit infer mcep` takes a model of any of the mcep tasks.
        super().__init__(model_dir, checkpoint, device, None if task == "mcep" else task)
        if self.md.config.get("task") not in MCEP_TASKS:
            raise SpeechkitError(f"{model_dir} is a '{self.md.config.get('task')}' model, not one "
                                 f"of the mcep tasks ({', '.join(MCEP_TASKS)})")
        self.task, self.frontend = self.md.task, self.md.frontend
        self.use_gv = gv
        data = self.task.data
        self.gv = read_gv(data["gv"]) if data.get("gv") else {}
        self.set_target(target_speaker)

    def set_target(self, speaker):
        """Convert to this training speaker from now on (None: reconstruct)."""
        self.target = speaker
        self.target_id = None if speaker is None else self.task.speaker_id(speaker)

    @property
    def sample_rate(self):
        return self.frontend.sample_rate

    def analyze(self, waveform, sample_rate, origin=None):
        """An Analysis of a user's audio (errors: wrong rate, too short, no voiced frame)."""
        mcep, lf0, bap = self.frontend.analyze(waveform, sample_rate, origin)
        require_voiced(lf0, self.frontend.options["frame_period"], origin)
        return Analysis(mcep, lf0, bap)

    def _decode_speaker(self, item):
        """The speaker code to decode with: the target, else the source when the model knows it."""
        if self.target is not None:
            return self.target_id
        if getattr(self.task, "conditioned", False):
            if item.speaker is None or item.speaker not in self.task.spk2lf0:
                raise SpeechkitError(f"{self.md.path} is speaker-conditioned and the speaker of "
                                     f"this audio is not one it knows: give a target speaker "
                                     f"({', '.join(self.task.speakers)})")
            return self.task.speaker_id(item.speaker)
        return None

    def gv_target(self, speaker=None):
        key = speaker if speaker in self.gv else GLOBAL
        if key not in self.gv:
            raise SpeechkitError(f"{self.md.path}: no GV statistics (gv.ark with {GLOBAL}); the "
                                 f"GV post-filter needs them")
        return self.gv[key]

    def source_lf0(self, item):
        """(mean, std) of the source's log F0: its speaker's, else the utterance's own."""
        if item.speaker in self.task.spk2lf0:
            return self.task.spk2lf0[item.speaker]
        voiced = item.lf0[item.lf0 > 0]
        if not len(voiced):
            return 0.0, 1.0  # nothing voiced: nothing to convert
        return float(voiced.mean()), float(voiced.std())

    def convert(self, item, origin="features", with_gv=True):
        """An Analysis -> Output (see the module doc)."""
        c1 = self.task.normalise(item.mcep, origin)
        recon = self.task.reconstruct(self.md.model, c1, self._decode_speaker(item))
        mcep = self.task.denormalise(recon, np.asarray(item.mcep)[:, 0])
        lf0 = np.asarray(item.lf0, np.float32)
        if self.target is not None:
            lf0 = convert_lf0(lf0, self.source_lf0(item), self.task.spk2lf0[self.target])
        gv = None
        if with_gv:
            gv = gv_postfilter(mcep, self.gv_target(self.target)).astype(np.float32)
        return Output(mcep, gv, lf0)

    def resynthesize(self, mcep, lf0, bap):
        """WORLD synthesis, clipped to [-1, 1] (16-bit wavs would wrap around)."""
        return np.clip(self.frontend.synthesize(mcep, lf0, bap), -1.0, 1.0)

    def from_features(self, items):
        """Waveforms (float64) of a batch of Analysis items."""
        wavs = []
        for item in items:
            out = self.convert(item, with_gv=self.use_gv)
            wavs.append(self.resynthesize(out.mcep_gv if self.use_gv else out.mcep, out.lf0,
                                          item.bap))
        return wavs

    def __call__(self, waveform, sample_rate):
        return self.from_features([self.analyze(waveform, sample_rate)])[0]

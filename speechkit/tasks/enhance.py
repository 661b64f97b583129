"""Speech enhancement: (noisy, clean) waveform pairs in, an enhanced waveform out (PHASEN).

Data: a data dir whose `wav.scp` is the noisy audio and whose `utt2clean` (config
`data.clean_table`) is the clean reference, a wav.scp-format table (paths or pipes), the same
length as the noisy audio. The front-end is `waveform` (the data dir's feats.yaml says
`type: waveform` and its `sample_frequency`): the network owns its STFT.

Batches. Training takes random fixed-length crops (`data.crop_seconds`) of the pairs, one per
utterance per epoch, `train.max_batch` crops a batch (fewer when `train.batch_frames`, counted
in samples here, is smaller); utterances shorter than a crop are taken whole and padded. The
crops are drawn by CropSampler from numpy's generator seeded with (seed, epoch) alone, so an
epoch's crops are a pure function of (seed, epoch): a resumed run replays them exactly and DDP
ranks agree without sharing state. Dev takes whole utterances in length buckets.

Remixing (`data.remix_snr: [LO, HI]`, off by default): every training crop gets new noise, the
residual (noisy - clean) of another training pair at a random start, scaled to an SNR drawn
uniformly from LO..HI dB over the active speech of the crop's utterance (as the corpus mixes,
speechkit.corpus.enhance.measure_snr). A small corpus then offers a new mixture each epoch
instead of the same pairs again ("dynamic mixing"); the draws come from a generator of their
own seeded with (seed, epoch), so the crops themselves are those without remixing.

Speed perturbation (`data.speed_perturb: [0.9, 1.0, 1.1]`, off by default): each training
crop is played at a speed drawn from the list, tempo and pitch together as Kaldi's sox `speed`
(`speechkit wav-speed`), so the voices' F0 and formants move by that factor, noisy and clean
alike so the pair stays a pair. A remixed crop's new noise is taken as recorded: the
perturbation is there to vary the voices, and sped-up hum or brown noise would put the noise
where the lowest voices are. Drawn per crop on the fly rather than as Kaldi's 3-way copies of
the data dir, so an epoch costs what it cost without; the draws are a function of (seed,
epoch) too.

F0 lowering (`data.f0_shift: [-6, -1]`, off by default; `data.f0_shift_fraction`, default
0.5): that share of the training pairs, drawn per utterance from (seed, utterance id), has its
clean speech resynthesised by WORLD with F0 moved by a number of semitones drawn uniformly from
the range, formants and length kept (speechkit.data.voice.resynthesize, deterministic), and its
noise put back on it, so noisy - clean is still the recorded noise. It widens the F0 range of
the training voices downwards without the formant shift of speed perturbation: on the embedded
corpus a network trained on voices of 69 Hz and up cut the harmonics of a 56 Hz test voice
with the low-frequency noise (egs/enhance/RESULTS.md). Done once per pair as it is read, not
per crop: WORLD costs about 0.05 s of CPU a second of speech (with `train.preload: false`, at
every read). WORLD's F0 tracker (dio) starts at 71 Hz, so frames of a voice below that can
come out unvoiced.

Loss: PHASEN's 0.5 MSE of compressed magnitudes + 0.5 MSE of compressed complex spectra,
summed over the real T-F bins of each utterance; the weight returned is the number of those
bins, so the trainer's loss is the paper's per-bin mean (with `model.loss_relative`, each
utterance's loss over its noisy input's, weight 1: the mean ratio). Dev also reports the mean
SI-SDR of the enhanced waveforms against the clean ones and its gain over the noisy input (dB).
"""
import logging
import zlib
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np
import torch

from speechkit.corpus.enhance import active_mask
from speechkit.data.voice import resynthesize
from speechkit.errors import SpeechkitError
from speechkit.io import AudioTable
from speechkit.io.audio import change_speed
from speechkit.nn.phasen import parameter_summary
from speechkit.nn.registry import build_model
from speechkit.tasks.base import Task, register
from speechkit.train.batching import BucketSampler

log = logging.getLogger("speechkit.train")


def batch_si_sdr(ref, est, lengths):
    """SI-SDR in dB of each row (N, L) over its first lengths[i] samples: (N,) tensor."""
    keep = (torch.arange(ref.shape[1], device=ref.device)[None, :] < lengths[:, None]).to(ref.dtype)
    n = lengths.to(ref.dtype).clamp(min=1)[:, None]
    ref = (ref - (ref * keep).sum(1, keepdim=True) / n) * keep
    est = (est - (est * keep).sum(1, keepdim=True) / n) * keep
    scale = (est * ref).sum(1, keepdim=True) / (ref * ref).sum(1, keepdim=True).clamp(min=1e-20)
    target = scale * ref
    noise = est - target
    return 10 * torch.log10(target.pow(2).sum(1).clamp(min=1e-20) / noise.pow(2).sum(1).clamp(min=1e-20))


class PairSet:
    """(noisy, clean) float32 waveforms of a data dir by utterance id, with their lengths.

    Pairs that cannot be used (no reference, lengths that differ, unreadable audio) are left
    out with a warning naming the first; with `preload` every pair is read once and kept.
    `f0_shift`, an F0Shift or None, moves the F0 of the pairs it draws (data.f0_shift).
    """

    def __init__(self, data_dir, clean_table, sample_rate, preload=True, f0_shift=None):
        self.data_dir = Path(data_dir)
        clean_path = self.data_dir / clean_table
        for path in (self.data_dir / "wav.scp", clean_path):
            if not path.is_file():
                raise SpeechkitError(f"{path}: missing; an enhancement data dir needs wav.scp "
                                     f"(noisy audio) and {clean_table} (the clean references), "
                                     f"e.g. from `speechkit prepare-corpus embedded_enhance`")
        self.noisy = AudioTable(self.data_dir / "wav.scp", sample_rate=sample_rate)
        self.clean = AudioTable(clean_path, sample_rate=sample_rate)
        self.sample_rate = sample_rate
        self.f0_shift = f0_shift
        self.cache = {} if preload else None
        self._powers = {}
        self.lengths = self._lengths()
        self.keys = list(self.lengths)

    def _lengths(self):
        """{utt: samples} of the usable pairs (read once; kept when preloading)."""
        lengths, skipped = {}, []
        clean_keys = set(self.clean.keys())
        for utt in self.noisy.keys():
            if utt not in clean_keys:
                skipped.append((utt, "no clean reference"))
                continue
            pair = self._read(utt)
            if len(pair[0]) != len(pair[1]):
                skipped.append((utt, f"noisy {len(pair[0])} samples, clean {len(pair[1])}"))
                continue
            lengths[utt] = len(pair[0])
            if self.cache is not None:
                self.cache[utt] = pair
        if skipped:
            log.warning("%s: %d of %d pairs left out (e.g. %s: %s)", self.data_dir, len(skipped),
                        len(self.noisy), *skipped[0])
        if not lengths:
            raise SpeechkitError(f"{self.data_dir}: no usable (noisy, clean) pair")
        return lengths

    def _read(self, utt):
        noisy, _ = self.noisy[utt]
        clean, _ = self.clean[utt]
        noisy, clean = np.asarray(noisy, np.float32), np.asarray(clean, np.float32)
        semitones = self.f0_shift.draw(utt) if self.f0_shift and len(noisy) == len(clean) else 0
        if semitones:
            shifted = resynthesize(clean, self.sample_rate, f0_shift=semitones).astype(np.float32)
            noisy, clean = shifted + (noisy - clean), shifted
        return noisy, clean

    def __len__(self):
        return len(self.keys)

    def __getitem__(self, utt):
        return self.cache[utt] if self.cache is not None else self._read(utt)

    def powers(self, utt):
        """(active speech power of the clean, mean power of the noise) of a pair, for remixing."""
        if utt not in self._powers:
            noisy, clean = (x.astype(np.float64) for x in self[utt])
            active = active_mask(clean, self.sample_rate)
            speech = np.mean(clean[active] ** 2) if active.any() else np.mean(clean ** 2)
            self._powers[utt] = (speech, np.mean((noisy - clean) ** 2))
        return self._powers[utt]


class F0Shift(NamedTuple):
    """data.f0_shift: a `fraction` of the utterances, drawn from (seed, id), get their F0 moved
    by a number of semitones drawn uniformly from `semitones` (LO, HI)."""
    semitones: tuple
    fraction: float
    seed: int

    def draw(self, utt):
        """Semitones for utt, 0 for one left as it is."""
        rng = np.random.default_rng([self.seed, zlib.crc32(utt.encode())])
        shift, pick = rng.uniform(*self.semitones), rng.random()
        return float(shift) if pick < self.fraction else 0.0


class Noise(NamedTuple):
    """The noise a remixed crop gets: pair `utt`'s from `start`, at `snr` dB."""
    utt: str
    start: int
    snr: float


class Crop(NamedTuple):
    """`samples` samples of pair `utt` from `start`, played `speed` times faster (so about
    samples / speed of them come out), with new noise when `noise` is set."""
    utt: str
    start: int
    samples: int
    speed: float = 1.0
    noise: Optional[Noise] = None


class CropSampler:
    """Training batches of random crops: each epoch, every utterance gives one Crop at a random
    start; the utterances are shuffled and cut into batches of `batch_size` crops. A pure
    function of (seed, epoch). With `speeds`, each crop is played at a speed drawn from them,
    from a generator of its own: the starts and the remixing are drawn as without."""

    def __init__(self, lengths, crop, batch_size, world_size=1, seed=1, remix_snr=None,
                 speeds=None):
        self.lengths, self.crop, self.seed = lengths, crop, seed
        self.batch_size = max(batch_size, world_size)
        self.world_size = world_size
        self.keys = sorted(lengths)
        self.index = {utt: i for i, utt in enumerate(self.keys)}
        self.remix_snr = remix_snr
        self.speeds = speeds

    def batches(self, epoch):
        rng = np.random.default_rng([self.seed, epoch])
        speeds = (np.random.default_rng([self.seed, epoch, 2]).choice(self.speeds, len(self.keys))
                  if self.speeds else np.ones(len(self.keys)))
        crops = []
        for i, speed in zip(rng.permutation(len(self.keys)), speeds.tolist()):
            utt = self.keys[i]
            n = min(int(round(self.crop * speed)), self.lengths[utt])
            crops.append(Crop(utt, int(rng.integers(self.lengths[utt] - n + 1)), n, speed))
        if self.remix_snr:
            crops = self._remixed(crops, np.random.default_rng([self.seed, epoch, 1]))
        out = [crops[i:i + self.batch_size] for i in range(0, len(crops), self.batch_size)]
        if len(out) > 1 and len(out[-1]) < self.world_size:  # every rank needs a share
            out[-2].extend(out.pop())
        return out

    def _remixed(self, crops, rng):
        """Each crop with the noise of another pair where one exists."""
        out = []
        for crop in crops:
            j = int(rng.integers(len(self.keys) - 1)) if len(self.keys) > 1 else 0
            other = self.keys[j + (j >= self.index[crop.utt])] if len(self.keys) > 1 else crop.utt
            start = int(rng.integers(max(1, self.lengths[other] - crop.samples + 1)))
            noise = Noise(other, start, float(rng.uniform(*self.remix_snr)))
            out.append(crop._replace(noise=noise))
        return out

    def describe(self):
        short = sum(1 for n in self.lengths.values() if n < self.crop)
        remix = (f", remixed with other pairs' noise at {self.remix_snr[0]:g}.."
                 f"{self.remix_snr[1]:g} dB" if self.remix_snr else "")
        speed = (f", at speeds {'/'.join(f'{s:g}' for s in self.speeds)}" if self.speeds else "")
        return (f"{len(self.keys)} crops of {self.crop} samples per epoch in batches of "
                f"{self.batch_size} ({short} utterances shorter than a crop, padded){remix}{speed}")


def cut(dataset, crop):
    """(noisy, clean) waveforms of a Crop of a PairSet."""
    sped = lambda x: change_speed(x[crop.start:crop.start + crop.samples],  # noqa: E731
                                  dataset.sample_rate, crop.speed)
    noisy, clean = dataset[crop.utt]
    clean = sped(clean)
    return (remix(dataset, clean, crop.utt, crop.noise) if crop.noise else sped(noisy)), clean


def remix(dataset, clean, utt, noise):
    """clean + the Noise `noise`, at noise.snr dB against utt's active speech."""
    noisy, ref = dataset[noise.utt]
    span = slice(noise.start, noise.start + len(clean))
    residual = np.resize(noisy[span] - ref[span], len(clean))
    speech, power = dataset.powers(utt)[0], dataset.powers(noise.utt)[1]
    gain = np.sqrt(speech / max(power * 10 ** (noise.snr / 10), 1e-20))
    return (clean + gain * residual).astype(np.float32)


def pad_rows(rows):
    """List of 1-D arrays -> (N, L_max) float tensor, (N,) lengths."""
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    out = torch.zeros(len(rows), int(lengths.max()))
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.from_numpy(np.ascontiguousarray(r))
    return out, lengths


def _snr_range(value):
    """data.remix_snr: None (no remixing) or [LO, HI] dB."""
    if value is None:
        return None
    if not _is_range(value):
        raise SpeechkitError(f"data.remix_snr must be [LO, HI] dB with LO <= HI (or null for no "
                             f"remixing), got {value!r}")
    return (float(value[0]), float(value[1]))


def _speeds(value):
    """data.speed_perturb: None (off) or a list of speed factors, e.g. [0.9, 1.0, 1.1]."""
    if value is None:
        return None
    if not (isinstance(value, (list, tuple)) and value and all(_finite(v) and v > 0 for v in value)):
        raise SpeechkitError(f"data.speed_perturb must be a list of positive speed factors, e.g. "
                             f"[0.9, 1.0, 1.1] (or null for none), got {value!r}")
    return tuple(float(v) for v in value)


def _f0_shift(data, seed):
    """data.f0_shift (None: off, or [LO, HI] semitones) and data.f0_shift_fraction -> F0Shift."""
    value, fraction = data.get("f0_shift"), data.get("f0_shift_fraction")
    if value is None:
        return None
    if not _is_range(value):
        raise SpeechkitError(f"data.f0_shift must be [LO, HI] semitones with LO <= HI, e.g. "
                             f"[-6, -1] (or null for none), got {value!r}")
    if not (_finite(fraction) and 0 <= fraction <= 1):
        raise SpeechkitError(f"data.f0_shift_fraction must be a number in [0, 1] (the share of "
                             f"training utterances shifted), got {fraction!r}")
    return F0Shift((float(value[0]), float(value[1])), float(fraction), seed)


def _is_range(value):
    """[LO, HI] of finite numbers with LO <= HI."""
    return (isinstance(value, (list, tuple)) and len(value) == 2
            and all(_finite(v) for v in value) and value[0] <= value[1])


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


@register("enhance")
class EnhanceTask(Task):
    defaults = {"model": {"name": "phasen"},
                "data": {"clean_table": "utt2clean", "crop_seconds": 2.0,
                         "remix_snr": None, "speed_perturb": None, "f0_shift": None,
                         "f0_shift_fraction": 0.5}}
    assets = {"features": Task.assets["features"]}
    stats = ("loss", "utts", "si_sdr", "si_sdr_noisy")

    def __init__(self, config, model_dir):
        super().__init__(config, model_dir)
        if self.frontend.dim != 1 or not hasattr(self.frontend, "sample_rate"):
            raise SpeechkitError(f"{self.data['features']}: the enhance task takes waveforms; "
                                 f"its feature config must say `type: waveform`")
        self.sample_rate = self.frontend.sample_rate
        crop = self.data["crop_seconds"]
        if not isinstance(crop, (int, float)) or crop <= 0:
            raise SpeechkitError(f"data.crop_seconds must be a positive number, got {crop!r}")
        self.crop = int(round(crop * self.sample_rate))
        self.remix_snr = _snr_range(self.data.get("remix_snr"))
        self.speeds = _speeds(self.data.get("speed_perturb"))
        self.f0_shift = _f0_shift(self.data, self.config["train"]["seed"])
        self.model = None

    def build_model(self, input_dim):
        self.model = build_model(self.config["model"], input_dim, None)
        if hasattr(self.model, "stems"):
            log.info("network %s, parameters:\n%s", self.config["model"]["name"],
                     parameter_summary(self.model))
        return self.model

    def dataset(self, part):
        shift = self.f0_shift if part == "train" else None
        data = PairSet(self.data[part], self.data["clean_table"], self.sample_rate,
                       self.config["train"]["preload"], shift)
        if shift:
            moved = sum(1 for utt in data.keys if shift.draw(utt))
            log.info("%s: F0 of %d of %d pairs moved by %g..%g semitones (data.f0_shift)",
                     self.data[part], moved, len(data), *shift.semitones)
        return data

    def sampler(self, dataset, train, world_size=1):
        self.every_copy_only()
        conf = self.config["train"]
        if not train:
            return BucketSampler(dataset.lengths, conf["batch_frames"], conf["max_batch"],
                                 world_size, conf["seed"], shuffle=False)
        size = max(1, min(conf["max_batch"], conf["batch_frames"] // self.crop))
        return CropSampler(dataset.lengths, self.crop, size, world_size, conf["seed"],
                           self.remix_snr, self.speeds)

    def collate(self, keys, dataset):
        """keys: Crops in training, utterance ids on dev."""
        noisy, clean = [], []
        for key in keys:
            crop = key if isinstance(key, Crop) else Crop(key, 0, dataset.lengths[key])
            x, y = cut(dataset, crop)
            noisy.append(x)
            clean.append(y)
        x, lengths = pad_rows(noisy)
        y, _ = pad_rows(clean)
        return {"keys": keys, "noisy": x, "clean": y, "lengths": lengths}

    def loss(self, model, batch):
        out = model(batch["noisy"], batch["lengths"])
        net = model.module if hasattr(model, "module") else model
        sums, bins = net.loss_terms(out, batch["clean"], batch["lengths"])
        stats = {"loss": sums.sum().item()}
        if not torch.is_grad_enabled():
            lengths = batch["lengths"]
            stats.update(utts=len(lengths),
                         si_sdr=batch_si_sdr(batch["clean"], out["wav"], lengths).sum().item(),
                         si_sdr_noisy=batch_si_sdr(batch["clean"], batch["noisy"],
                                                   lengths).sum().item())
        return sums.sum(), bins.sum().item(), stats

    def metrics(self, sums, count):
        out = {"loss": sums["loss"] / max(count, 1)}
        if sums.get("utts"):
            out["si_sdr"] = sums["si_sdr"] / sums["utts"]
            out["si_sdr_gain"] = (sums["si_sdr"] - sums["si_sdr_noisy"]) / sums["utts"]
        return out


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

Loss: PHASEN's 0.5 MSE of compressed magnitudes + 0.5 MSE of compressed complex spectra,
summed over the real T-F bins of each utterance; the weight returned is the number of those
bins, so the trainer's loss is the paper's per-bin mean. Dev also reports the mean SI-SDR of
the enhanced waveforms against the clean ones and its gain over the noisy input (dB).
"""
import logging
from pathlib import Path

import numpy as np
import torch

from speechkit.errors import SpeechkitError
from speechkit.io import AudioTable
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
    """

    def __init__(self, data_dir, clean_table, sample_rate, preload=True):
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
        self.cache = {} if preload else None
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
        return np.asarray(noisy, np.float32), np.asarray(clean, np.float32)

    def __len__(self):
        return len(self.keys)

    def __getitem__(self, utt):
        return self.cache[utt] if self.cache is not None else self._read(utt)


class CropSampler:
    """Training batches of random crops: each epoch, every utterance gives one crop
    (utt, start, samples) at a random start; the utterances are shuffled and cut into batches
    of `batch_size` crops. A pure function of (seed, epoch)."""

    def __init__(self, lengths, crop, batch_size, world_size=1, seed=1):
        self.lengths, self.crop, self.seed = lengths, crop, seed
        self.batch_size = max(batch_size, world_size)
        self.world_size = world_size
        self.keys = sorted(lengths)

    def batches(self, epoch):
        rng = np.random.default_rng([self.seed, epoch])
        crops = []
        for i in rng.permutation(len(self.keys)):
            utt = self.keys[i]
            n = min(self.crop, self.lengths[utt])
            crops.append((utt, int(rng.integers(self.lengths[utt] - n + 1)), n))
        out = [crops[i:i + self.batch_size] for i in range(0, len(crops), self.batch_size)]
        if len(out) > 1 and len(out[-1]) < self.world_size:  # every rank needs a share
            out[-2].extend(out.pop())
        return out

    def describe(self):
        short = sum(1 for n in self.lengths.values() if n < self.crop)
        return (f"{len(self.keys)} crops of {self.crop} samples per epoch in batches of "
                f"{self.batch_size} ({short} utterances shorter than a crop, padded)")


def pad_rows(rows):
    """List of 1-D arrays -> (N, L_max) float tensor, (N,) lengths."""
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    out = torch.zeros(len(rows), int(lengths.max()))
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.from_numpy(np.ascontiguousarray(r))
    return out, lengths


@register("enhance")
class EnhanceTask(Task):
    defaults = {"model": {"name": "phasen"},
                "data": {"clean_table": "utt2clean", "crop_seconds": 2.0}}
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
        self.model = None

    def build_model(self, input_dim):
        self.model = build_model(self.config["model"], input_dim, None)
        if hasattr(self.model, "stems"):
            log.info("network %s, parameters:\n%s", self.config["model"]["name"],
                     parameter_summary(self.model))
        return self.model

    def dataset(self, part):
        return PairSet(self.data[part], self.data["clean_table"], self.sample_rate,
                       self.config["train"]["preload"])

    def sampler(self, dataset, train, world_size=1):
        self.every_copy_only()
        conf = self.config["train"]
        if not train:
            return BucketSampler(dataset.lengths, conf["batch_frames"], conf["max_batch"],
                                 world_size, conf["seed"], shuffle=False)
        size = max(1, min(conf["max_batch"], conf["batch_frames"] // self.crop))
        return CropSampler(dataset.lengths, self.crop, size, world_size, conf["seed"])

    def collate(self, keys, dataset):
        """keys: crops (utt, start, samples) in training, utterance ids on dev."""
        noisy, clean = [], []
        for key in keys:
            utt, start, n = key if isinstance(key, tuple) else (key, 0, dataset.lengths[key])
            pair = dataset[utt]
            noisy.append(pair[0][start:start + n])
            clean.append(pair[1][start:start + n])
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


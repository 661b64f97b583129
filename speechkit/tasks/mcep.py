"""Mel-cepstrum autoencoders: a frame VAE (optionally speaker-conditioned) and an LSTM sequence AE.

Inputs (config `data:`): `features`, the data dir's typed feats.yaml (`type: mcep`, from
egs/mcep/local/make_mcep.sh); `cmvn`, the training set's global mean/std of c0..c{order}
(`speechkit compute-cmvn-stats`); `gv` and `spk2lf0`, the training set's global variance and
per-speaker log-F0 statistics (local/mcep_feats.py stats). All four are assets: the model dir
keeps them, so it resynthesises (and converts) a user's audio with nothing else.

Both tasks model c1..c{order} normalised per dimension (c0, the energy, is passed through at
resynthesis). Losses are summed over frames and normalised by frames.

- `mcep_vae`: shuffled single frames (optionally with +-k context frames, `model.context`) in
  batches of `train.batch_frames` (128), reshuffled per (seed, epoch) (`FrameSampler`). KL
  weight annealed linearly from 0 over `train.kl_anneal_steps` optimizer steps (0: none) up to
  `train.kl_weight`, with `train.free_bits` per latent; the step counter lives in the network's
  `kl_step` buffer, so a resumed run continues the schedule exactly. The dev loss always uses
  the full KL weight (annealing must not make early epochs look best). Per epoch, besides the
  loss: the Gaussian NLL and the KL per frame, the share of dead ReLU units and the number of
  active latents (batch statistics averaged over batches, frame-weighted; dev batches are
  `train.dev_batch_frames` long) and, on dev, the reconstruction MCD in dB (c0 excluded).
  `model.conditioned: true` adds a one-hot speaker code (the speakers of spk2lf0) to the decoder.
- `mcep_seq_ae`: windows of `train.window` frames (default 100; 0: whole utterances, batched by
  length), shuffled per (seed, epoch) in batches of `train.max_batch` windows; padded steps are
  masked out of the loss; `train.step_weights` none|sqrt|linear weights decoding step s by 1,
  sqrt(s+1) or s+1.
"""
import numpy as np
import torch

from speechkit.data.batch import pad
from speechkit.errors import SpeechkitError
from speechkit.features.cmvn import VAR_FLOOR, FeatureNorm, apply_cmvn
from speechkit.features.mcep_frontend import McepFrontend, read_spk2lf0
from speechkit.io import read_dict
from speechkit.metrics.mcd import MCD_CONST
from speechkit.nn.mcep_vae import stack_context, vae_loss
from speechkit.nn.registry import build_model
from speechkit.nn.seq_ae import seq_ae_loss
from speechkit.tasks.base import Task, register
from speechkit.train.batching import BucketSampler
from speechkit.train.dataset import FeatureSet

STEP_WEIGHTS = ("none", "sqrt", "linear")


def mean_std(stats):
    """(mean, std) per dimension of Kaldi CMVN stats (2, D+1), as apply_cmvn uses them."""
    stats = np.asarray(stats, np.float64)
    count = stats[0, -1]
    mean = stats[0, :-1] / count
    return mean, np.sqrt(np.maximum(stats[1, :-1] / count - mean ** 2, VAR_FLOOR))


class McepTask(Task):
    """What the mcep tasks share: the mcep front-end, normalisation, assets, speakers."""
    assets = {**Task.assets, "gv": "gv.ark", "spk2lf0": "spk2lf0"}
    data_defaults = {"gv": None, "spk2lf0": None}

    def __init__(self, config, model_dir):
        super().__init__(config, model_dir)
        if not isinstance(self.frontend, McepFrontend):
            raise SpeechkitError(f"{self.data['features']}: the {self.name} task needs mel-cepstra "
                                 f"(type: mcep, from local/make_mcep.sh)")
        if not self.data.get("cmvn"):
            raise SpeechkitError("data.cmvn is not set: the mcep tasks normalise with the training "
                                 "set's global stats (speechkit compute-cmvn-stats)")
        self.norm = FeatureNorm(self.data["cmvn"])  # read once, for every FeatureSet too
        self.cmvn_stats = self.norm.stats
        self.mean, self.std = mean_std(self.cmvn_stats)
        self.spk2lf0 = read_spk2lf0(self.data["spk2lf0"]) if self.data.get("spk2lf0") else {}
        self.speakers = sorted(self.spk2lf0)

    def input_dim(self):
        return self.frontend.dim - 1  # c1..c{order}; c0 is passed through

    # --- normalisation (the model sees c1.. with zero mean, unit variance) --------------------
    def normalise(self, mcep, origin="features"):
        """Raw (T, order+1) mcep -> normalised c1.. (T, order) float32."""
        mcep = np.asarray(mcep, np.float32)
        if mcep.ndim != 2 or mcep.shape[1] != self.frontend.dim:
            raise SpeechkitError(f"{origin}: {mcep.shape[-1] if mcep.ndim == 2 else '?'}-dim "
                                 f"mel-cepstra, but the model was trained on {self.frontend.dim} "
                                 f"(c0..c{self.frontend.dim - 1}); recompute them with the "
                                 f"model's feats.yaml")
        return apply_cmvn(mcep, self.cmvn_stats, norm_vars=True)[:, 1:]

    def denormalise(self, c1, c0):
        """Normalised c1.. (T, order) and raw c0 (T,) -> raw (T, order+1) float32."""
        raw = np.asarray(c1, np.float64) * self.std[1:] + self.mean[1:]
        return np.concatenate([np.asarray(c0, np.float64).reshape(-1, 1), raw], 1).astype(np.float32)

    def speaker_id(self, spk):
        if spk not in self.spk2lf0:
            raise SpeechkitError(f"unknown speaker '{spk}': the model knows "
                                 f"{', '.join(self.speakers) or 'no speaker (no spk2lf0)'}")
        return self.speakers.index(spk)

    def _features(self, part):
        """FeatureSet of data.<part> (CMVN applied), its dimension checked."""
        data_dir = self.data[part]
        feats = FeatureSet(data_dir, self.norm, preload=True)
        if feats.dim != self.frontend.dim:
            raise SpeechkitError(f"{data_dir}/feats.scp: {feats.dim}-dim mel-cepstra, but "
                                 f"{self.data['features']} describes {self.frontend.dim}; "
                                 f"recompute the features of {data_dir} with that config")
        return feats

    def _mcd(self, diff):
        """Sum over frames of the MCD (dB) of normalised c1.. differences (frames, order)."""
        raw = diff.double() * torch.as_tensor(self.std[1:], device=diff.device)
        return float(MCD_CONST * raw.pow(2).sum(-1).sqrt().sum())


# --- frames --------------------------------------------------------------------------------
class FrameSet:
    """Normalised c1.. frames of a data dir as one (N, D) tensor, with each frame's utterance
    bounds (for context frames) and speaker id."""

    def __init__(self, feats, speakers=None, utt2spk=None):
        mats = [feats[k][:, 1:] for k in feats.keys]
        self.frames = torch.from_numpy(np.ascontiguousarray(np.concatenate(mats)))
        lengths = torch.tensor([len(m) for m in mats])
        ends = torch.cumsum(lengths, 0)
        self.start = torch.repeat_interleave(ends - lengths, lengths)
        self.end = torch.repeat_interleave(ends, lengths)
        self.speaker = None
        if speakers is not None:
            index = {s: i for i, s in enumerate(speakers)}
            missing = sorted({utt2spk[k] for k in feats.keys} - set(index))
            if missing:
                raise SpeechkitError(f"{feats.data_dir}: speakers {', '.join(missing[:3])} are not "
                                     f"in data.spk2lf0; compute it from this training set")
            ids = torch.tensor([index[utt2spk[k]] for k in feats.keys])
            self.speaker = torch.repeat_interleave(ids, lengths)

    def __len__(self):
        return len(self.frames)

    def batch(self, idx, context):
        """(len(idx), (2k+1)·D) frames with +-context neighbours from the same utterance."""
        idx = torch.as_tensor(idx, dtype=torch.long)
        if context == 0:
            return self.frames[idx]
        near = idx[:, None] + torch.arange(-context, context + 1)
        near = torch.minimum(torch.maximum(near, self.start[idx, None]), self.end[idx, None] - 1)
        return self.frames[near].flatten(1)


class FrameSampler:
    """Shuffled frames in batches of `size`: a pure function of (seed, epoch)."""

    def __init__(self, count, size, seed, shuffle, world_size=1):
        self.count, self.size, self.seed, self.shuffle = count, size, seed, shuffle
        self.world_size = world_size

    def batches(self, epoch):
        order = (np.random.default_rng([self.seed, epoch]).permutation(self.count) if self.shuffle
                 else np.arange(self.count))
        out = [order[i:i + self.size].tolist() for i in range(0, self.count, self.size)]
        if len(out) > 1 and len(out[-1]) < self.world_size:  # every rank needs a share
            out[-2].extend(out.pop())
        return out

    def describe(self):
        return f"{self.count} frames in batches of {self.size}" + (", reshuffled per epoch"
                                                                    if self.shuffle else "")


@register("mcep_vae")
class McepVAETask(McepTask):
    defaults = {"model": {"name": "mcep_vae", "hidden": [256, 128], "latent": 64, "context": 0,
                          "conditioned": False},
                "data": McepTask.data_defaults,
                "optim": {"name": "adam", "lr": 1e-3, "scheduler": {"name": "none"}},
                "train": {"epochs": 50, "batch_frames": 128, "kl_weight": 1.0,
                          "kl_anneal_steps": 0, "free_bits": 0.0, "dev_batch_frames": 2048}}
    stats = ("loss", "nll", "kl", "dead", "active", "mcd", "mcd_frames")

    def __init__(self, config, model_dir):
        super().__init__(config, model_dir)
        self.conditioned = bool(config["model"].get("conditioned"))
        self.context = int(config["model"].get("context", 0))
        if self.conditioned and not self.speakers:
            raise SpeechkitError("model.conditioned: true needs data.spk2lf0 (the training "
                                 "speakers); see local/mcep_feats.py stats")

    def build_model(self, input_dim):
        conf = dict(self.config["model"])  # the saved config keeps `conditioned`, not a count
        if self.conditioned:
            conf["num_speakers"] = len(self.speakers)
        model = build_model(conf, input_dim, skip=("conditioned",))
        model.register_buffer("kl_step", torch.zeros((), dtype=torch.float64))
        return model

    def dataset(self, part):
        feats = self._features(part)
        utt2spk = read_dict(f"{self.data[part]}/utt2spk") if self.conditioned else None
        return FrameSet(feats, self.speakers if self.conditioned else None, utt2spk)

    def sampler(self, dataset, train, world_size=1):
        self.every_copy_only()
        conf = self.config["train"]
        size = conf["batch_frames"] if train else conf["dev_batch_frames"]
        return FrameSampler(len(dataset), size, conf["seed"], train, world_size)

    def collate(self, keys, dataset):
        batch = {"x": dataset.batch(keys, self.context)}
        if dataset.speaker is not None:
            batch["speaker"] = dataset.speaker[torch.as_tensor(keys, dtype=torch.long)]
        return batch

    def kl_weight(self, step):
        conf = self.config["train"]
        ramp = conf["kl_anneal_steps"]
        return conf["kl_weight"] * (min(1.0, step / ramp) if ramp > 0 else 1.0)

    def loss(self, model, batch):
        net = getattr(model, "module", model)  # DDP wraps it
        out = model(batch["x"], batch.get("speaker"))
        target = net.centre(batch["x"])
        conf = self.config["train"]
        # Annealing shapes training only: dev scores the full objective, so that epochs (and
        # best.pt / ave.pt) compare alike rather than favouring the low-KL-weight first ones.
        weight = self.kl_weight(float(net.kl_step)) if torch.is_grad_enabled() else conf["kl_weight"]
        res = vae_loss(out, target, weight, conf["free_bits"])
        n = len(target)
        stats = {"loss": res.loss.sum().item(), "nll": res.nll.sum().item(),
                 "kl": res.kl.sum().item(), "dead": res.dead_share * n,
                 "active": res.active_latents * n}
        if not torch.is_grad_enabled():  # dev: the reconstruction (posterior mean) in dB
            stats.update(mcd=self._mcd(out.mean - target), mcd_frames=n)
        return res.loss.sum(), n, stats

    def on_step_end(self, trainer):
        trainer.model.kl_step.fill_(trainer.state["step"])

    def metrics(self, sums, count):
        count = max(count, 1)
        out = {"loss": sums["loss"] / count, "nll": sums["nll"] / count, "kl": sums["kl"] / count,
               "dead_share": sums["dead"] / count, "active_latents": sums["active"] / count}
        if sums.get("mcd_frames"):
            out["mcd"] = sums["mcd"] / sums["mcd_frames"]
        return out

    @torch.no_grad()
    def reconstruct(self, model, c1, speaker=None):
        """Normalised c1.. (T, D) -> reconstruction (T, D) numpy; `speaker` (an id) decodes
        with that speaker's code (conversion), as the model's conditioning requires."""
        x = stack_context(torch.as_tensor(c1, dtype=torch.float32), self.context)
        if self.conditioned and speaker is None:
            raise SpeechkitError("this VAE is speaker-conditioned: give the speaker (or a target "
                                 "speaker) to decode with")
        if speaker is not None and not self.conditioned:  # would convert F0 only, silently
            raise SpeechkitError("this VAE has no speaker code; convert with a speaker-"
                                 "conditioned VAE (model.conditioned: true)")
        x = x.to(next(model.parameters()).device)
        return model.reconstruct(x, speaker).float().cpu().numpy()

    @torch.no_grad()
    def latent_kl(self, model, c1):
        """(latent,) KL of each latent dimension summed over the frames of c1 (T, D)."""
        x = stack_context(torch.as_tensor(c1, dtype=torch.float32), self.context)
        mu, logvar = model.encode(x.to(next(model.parameters()).device))
        return (0.5 * (mu * mu + logvar.exp() - 1.0 - logvar)).sum(0).double().cpu().numpy()


# --- sequences -----------------------------------------------------------------------------
class WindowSet:
    """Windows of normalised c1.. frames: (utterance, start, length), `window` frames each (the
    tail of an utterance as a shorter window), or whole utterances when window is 0."""

    def __init__(self, feats, window, min_frames=2):
        self.mats = {k: torch.from_numpy(np.ascontiguousarray(feats[k][:, 1:])) for k in feats.keys}
        self.items = []
        for key, mat in self.mats.items():
            step = window or len(mat)
            for start in range(0, len(mat), step):
                length = min(step, len(mat) - start)
                if length >= min_frames:
                    self.items.append((key, start, length))
        self.lengths = {i: item[2] for i, item in enumerate(self.items)}

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        key, start, length = self.items[i]
        return self.mats[key][start:start + length]


@register("mcep_seq_ae")
class McepSeqAETask(McepTask):
    defaults = {"model": {"name": "lstm_seq_ae", "hidden": 256, "layers": 1,
                          "bidirectional": True, "target": "delta"},
                "data": McepTask.data_defaults,
                "train": {"epochs": 30, "window": 100, "max_batch": 32, "batch_frames": 3200,
                          "step_weights": "none"}}
    stats = ("loss", "mse", "mcd")

    def __init__(self, config, model_dir):
        super().__init__(config, model_dir)
        conf = config["train"]
        if conf["step_weights"] not in STEP_WEIGHTS:
            raise SpeechkitError(f"train.step_weights '{conf['step_weights']}': use one of "
                                 f"{', '.join(STEP_WEIGHTS)}")
        if conf["window"] < 0:
            raise SpeechkitError(f"train.window must be >= 0 frames (0: whole utterances), got "
                                 f"{conf['window']}")
        self.window = conf["window"]

    def build_model(self, input_dim):
        return build_model(self.config["model"], input_dim)

    def dataset(self, part):
        return WindowSet(self._features(part), self.window)

    def sampler(self, dataset, train, world_size=1):
        self.every_copy_only()
        conf = self.config["train"]
        if self.window:  # windows reshuffled every epoch, max_batch of them per batch
            return WindowSampler(len(dataset), conf["max_batch"], conf["seed"], train, world_size)
        return BucketSampler(dataset.lengths, conf["batch_frames"], conf["max_batch"], world_size,
                             conf["seed"], shuffle=train)

    def collate(self, keys, dataset):
        x, lengths = pad([dataset[k] for k in keys])
        return {"x": x, "lengths": lengths}

    def step_weights(self, steps):
        kind = self.config["train"]["step_weights"]
        if kind == "none":
            return None
        s = torch.arange(1, steps + 1, dtype=torch.float32)
        return s.sqrt() if kind == "sqrt" else s

    def loss(self, model, batch):
        out = model(batch["x"], batch["lengths"])
        per_step = seq_ae_loss(out).per_step
        weights = self.step_weights(per_step.shape[1])
        weighted = per_step if weights is None else per_step * weights.to(per_step.device)
        frames = int(out.mask.sum())
        stats = {"loss": weighted.sum().item(), "mse": per_step.sum().item()}
        if not torch.is_grad_enabled():
            stats["mcd"] = self._mcd((out.recon - batch["x"])[out.mask])
        return weighted.sum(), frames, stats

    def metrics(self, sums, count):
        count = max(count, 1)
        out = {"loss": sums["loss"] / count, "mse": sums["mse"] / count}
        if sums.get("mcd"):
            out["mcd"] = sums["mcd"] / count
        return out

    @torch.no_grad()
    def reconstruct(self, model, c1, speaker=None, max_batch=64):
        """Normalised c1.. (T, D) -> reconstruction (T, D), window by window as in training."""
        if speaker is not None:
            raise SpeechkitError("the LSTM sequence autoencoder has no speaker code; convert "
                                 "with a speaker-conditioned VAE")
        c1 = torch.as_tensor(c1, dtype=torch.float32)
        step = self.window or len(c1)
        pieces = [c1[s:s + step] for s in range(0, len(c1), step)]
        device = next(model.parameters()).device
        out = []
        for i in range(0, len(pieces), max_batch):
            x, lengths = pad(pieces[i:i + max_batch])
            recon = model(x.to(device), lengths).recon.cpu()
            out += [r[:n] for r, n in zip(recon, lengths.tolist())]
        return torch.cat(out).float().numpy()


class WindowSampler(FrameSampler):
    """Shuffled windows, `size` per batch, a pure function of (seed, epoch)."""

    def describe(self):
        return f"{self.count} windows in batches of {self.size}" + (
            ", reshuffled per epoch" if self.shuffle else "")


# --- baselines -----------------------------------------------------------------------------
BASELINES = ("copy", "mean", "pca")


class FrameBaseline(torch.nn.Module):
    """Closed-form frame "autoencoders" on normalised c1..: `copy` (the input: analysis-
    synthesis), `mean` (the training mean frame, i.e. zeros) or `pca` (the `latent` leading
    principal directions of the training frames). Buffers only, so a model dir keeps it."""

    def __init__(self, input_dim, method="mean", latent=0):
        super().__init__()
        if method not in BASELINES:
            raise SpeechkitError(f"model.name '{method}': baselines are {', '.join(BASELINES)}")
        if method == "pca" and not 1 <= latent <= input_dim:
            raise SpeechkitError(f"model.latent {latent}: a PCA of {input_dim}-dim frames keeps "
                                 f"1..{input_dim} components")
        self.method = method
        self.register_buffer("mean", torch.zeros(input_dim))
        self.register_buffer("components", torch.zeros(latent if method == "pca" else 0,
                                                       input_dim))

    def fit(self, frames):
        """Fit on (N, D) normalised training frames (PCA: speechkit.nn.pca, float64 SVD)."""
        from speechkit.nn.pca import PCA
        self.mean.copy_(frames.mean(0))
        if self.method == "pca":
            state = PCA(len(self.components)).fit(frames).state_dict()
            self.mean.copy_(state["mean"])
            self.components.copy_(state["components"])
        return self

    def forward(self, x):
        if self.method == "copy":
            return x
        if self.method == "mean":
            return self.mean.expand_as(x)
        return (x - self.mean) @ self.components.T @ self.components + self.mean


@register("mcep_baseline")
class McepBaselineTask(McepTask):
    """Baselines of the mcep recipe, fitted (not trained) by `speechkit mcep-reconstruct
    --baseline NAME`, which writes their model dir; they decode like the trained models."""
    defaults = {"model": {"name": "mean", "latent": 0}, "data": McepTask.data_defaults}

    def build_model(self, input_dim):
        conf = self.config["model"]
        return FrameBaseline(input_dim, conf["name"], int(conf.get("latent") or 0))

    def fit(self, model):
        feats = self._features("train")
        model.fit(torch.from_numpy(np.concatenate([feats[k][:, 1:] for k in feats.keys])))
        return model

    def _not_trained(self, *_):
        raise SpeechkitError("mcep baselines are fitted, not trained: use `speechkit "
                             "mcep-reconstruct --baseline NAME --train-data DIR`")

    dataset = collate = loss = _not_trained

    @torch.no_grad()
    def reconstruct(self, model, c1, speaker=None):
        """Normalised c1.. (T, D) -> the baseline's (T, D); a speaker changes nothing."""
        return model(torch.as_tensor(c1, dtype=torch.float32)).float().cpu().numpy()

"""Speaker embeddings: siamese KL/hinge training (Lukic et al. 2016/2017) or the cross-entropy
d-vector, on fixed-length segments of log-mel features.

Config (`task: speaker`):

- `data.speakers`: the training speakers, one label per line (`speechkit make-tokens --unit
  label data/train/utt2spk data/lang/speakers.txt`); its size is the network's n. Kept in the
  model dir with the feature config and the CMVN stats.
- `model.loss`: `kl_hinge` (the pairwise loss over all pairs of a batch, symmetric KL for same
  speakers, a hinge at `model.margin` for different ones; speechkit.nn.pairwise_kl),
  `kl_flawed` (the one-sided, clipped formulation the issue starts from: an ablation) or
  `cross_entropy` (softmax over the training speakers, the usual d-vector baseline).
  `model.hinge`: relu | softplus. `model.segment_frames`: the segment length (default 100
  frames = 1 s for speaker_cnn, 40 = 0.4 s for speaker_blstm; the CNN's `frames` follows it).
- `train.speakers_per_batch` (P) x `train.segments_per_speaker` (K): the batch. Same-speaker
  pairs are then a known share of the batch's pairs (P K(K-1)/2 of PK(PK-1)/2; the original's
  100 random segments of 100 speakers gave about 1%), logged when training starts.
  `train.batches_per_epoch` (0: as many as make one pass over the utterances on average).

Training segments are random crops (start drawn from the torch RNG, which checkpoints restore,
so a resumed run sees the same crops); dev segments are centred crops, so the dev loss is the
same measurement every epoch. An utterance shorter than a segment is tiled (repeated) to length.
The loss is normalised by the number of pairs (KL losses) or segments (cross-entropy).

Dev data: for the KL losses any speakers will do (same/different is all they need); for
cross-entropy, dev utterances must be of training speakers (the recipe holds out a few of each
training speaker's utterances); utterances of other speakers are left out with a warning.

Embeddings (speechkit.infer.speaker): an utterance's embedding is the mean over its segments
(hop half a segment, the last one flush with the end) of one layer's output, `hidden` being the
network's default layer (the CNN's first dense layer, the BLSTM's pooled output).
"""
import inspect
import logging
import math

import numpy as np
import torch
import torch.nn.functional as F

import speechkit.nn.speaker_nets  # noqa: F401  (registers speaker_cnn, speaker_blstm)
from speechkit.data.tokens import TokenList
from speechkit.errors import SpeechkitError
from speechkit.io import read_dict
from speechkit.nn.pairwise_kl import PairwiseKLLoss
from speechkit.nn.registry import MODELS, build_model
from speechkit.tasks.base import FeatureTask, register

log = logging.getLogger("speechkit.train")

LOSSES = ("kl_hinge", "kl_flawed", "cross_entropy")
SEGMENT_FRAMES = {"speaker_cnn": 100, "speaker_blstm": 40}
TASK_KEYS = ("loss", "margin", "hinge", "segment_frames")  # model keys the task reads
HIDDEN = "hidden"  # alias of the network's default embedding layer


def fit_segment(mat, frames, start=None):
    """A (frames, D) window of a (T, D) matrix from `start` (default: centred); a matrix shorter
    than `frames` is tiled from its start instead."""
    mat = torch.as_tensor(mat)
    if len(mat) < frames:
        return mat.repeat(math.ceil(frames / len(mat)), 1)[:frames]
    if start is None:
        start = (len(mat) - frames) // 2
    return mat[start:start + frames]


def segment_starts(length, frames, hop):
    """Window starts covering a length-`length` utterance: every hop, the last one flush with
    the end (one window for an utterance no longer than a segment)."""
    if length <= frames:
        return [0]
    starts = list(range(0, length - frames + 1, hop))
    if starts[-1] != length - frames:
        starts.append(length - frames)
    return starts


def segments(mat, frames, hop):
    """(windows, frames, D) tensor of an utterance's segments."""
    mat = torch.as_tensor(mat)
    if len(mat) < frames:
        return fit_segment(mat, frames)[None]
    return torch.stack([mat[s:s + frames] for s in segment_starts(len(mat), frames, hop)])


class SpeakerBatches:
    """P speakers x K segments per batch, the batches of an epoch a pure function of (seed,
    epoch). Each batch draws P distinct speakers, then K of each one's utterances (without
    replacement when it has K or more). Dev batches (shuffle=False) are the same every epoch."""

    def __init__(self, labels, speakers_per_batch, segments_per_speaker, num_batches=0, seed=1,
                 shuffle=True):
        groups = {}
        for utt, spk in labels.items():
            groups.setdefault(spk, []).append(utt)
        self.groups = [sorted(utts) for _, utts in sorted(groups.items())]
        self.p = min(int(speakers_per_batch), len(self.groups))
        self.k = int(segments_per_speaker)
        if self.k < 1 or self.p * self.k < 2:
            raise SpeechkitError(f"train.speakers_per_batch={speakers_per_batch} x "
                                 f"train.segments_per_speaker={segments_per_speaker} gives "
                                 f"batches of {self.p * self.k} segments ({len(self.groups)} "
                                 f"speakers); pairs need at least 2")
        self.num = int(num_batches) or max(1, math.ceil(len(labels) / (self.p * self.k)))
        self.seed, self.shuffle = seed, shuffle

    def batches(self, epoch):
        rng = np.random.default_rng([self.seed, epoch] if self.shuffle else [0])
        out = []
        for _ in range(self.num):
            batch = []
            for g in rng.choice(len(self.groups), self.p, replace=False):
                utts = self.groups[g]
                rounds = math.ceil(self.k / len(utts))  # a short speaker's utterances recur
                picks = np.concatenate([rng.permutation(len(utts)) for _ in range(rounds)])
                batch += [utts[i] for i in picks[:self.k]]
            out.append(batch)
        return out

    def same_share(self):
        size = self.p * self.k
        return self.p * self.k * (self.k - 1) / (size * (size - 1))

    def describe(self):
        return (f"{self.p} speakers x {self.k} segments per batch, {self.num} batches per epoch "
                f"of {len(self.groups)} speakers; same-speaker pairs are "
                f"{100 * self.same_share():.1f}% of pairs")


@register("speaker")
class SpeakerTask(FeatureTask):
    defaults = {"model": {"name": "speaker_cnn", "loss": "kl_hinge", "margin": 2.0,
                          "hinge": "relu", "segment_frames": None},
                "data": {"speakers": None},
                "train": {"speakers_per_batch": 10, "segments_per_speaker": 4,
                          "batches_per_epoch": 0}}
    assets = {**FeatureTask.assets, "speakers": "speakers.txt"}
    stats = ("loss", "errors", "segments")

    def __init__(self, config, model_dir):
        super().__init__(config, model_dir)
        model = config["model"]
        if not self.data.get("speakers"):
            raise SpeechkitError("data.speakers is not set: give the training speaker list "
                                 "(speechkit make-tokens --unit label data/train/utt2spk "
                                 "data/lang/speakers.txt) in the config or as "
                                 "data.speakers=FILE")
        self.speakers = TokenList.read(self.data["speakers"])
        self.loss_name = model.get("loss", "kl_hinge")
        if self.loss_name not in LOSSES:
            raise SpeechkitError(f"model.loss '{self.loss_name}' is not one of {', '.join(LOSSES)}")
        self.segment_frames = self._segment_frames(model)
        self.pair_loss = None
        if self.loss_name != "cross_entropy":
            formulation = "symmetric" if self.loss_name == "kl_hinge" else "flawed"
            self.pair_loss = PairwiseKLLoss(margin=float(model.get("margin", 2.0)),
                                            hinge=model.get("hinge", "relu"),
                                            formulation=formulation)

    @staticmethod
    def _segment_frames(model):
        frames = model.get("segment_frames") or SEGMENT_FRAMES.get(model.get("name"))
        if not frames or int(frames) < 1:
            raise SpeechkitError(f"model.segment_frames: give the segment length in frames for "
                                 f"network {model.get('name')}")
        if model.get("frames") not in (None, frames):
            raise SpeechkitError(f"model.frames={model['frames']} but model.segment_frames="
                                 f"{frames}: the CNN is sized for the segments; set only "
                                 f"model.segment_frames")
        return int(frames)

    # --- the network ---------------------------------------------------------------------------
    def build_model(self, input_dim):
        conf = dict(self.config["model"])
        cls = MODELS.get(conf.get("name"))
        if "frames" in inspect.signature(cls).parameters:
            conf["frames"] = self.segment_frames
        return build_model(conf, input_dim, len(self.speakers), skip=TASK_KEYS)

    # --- examples and batches ------------------------------------------------------------------
    def dataset(self, part):
        dataset = super().dataset(part)
        dataset.train = part == "train"  # random crops for training, centred ones for dev
        return dataset

    def targets(self, data_dir, lengths):
        """Speaker index of each utterance; speakers outside data.speakers get indices after
        them (KL losses) or are left out (cross-entropy: they have no output)."""
        utt2spk = {u: s for u, s in read_dict(data_dir / "utt2spk").items() if u in lengths}
        unknown = sorted({s for s in utt2spk.values() if s not in self.speakers.ids})
        if unknown and self.loss_name == "cross_entropy":
            log.warning("%s: %d speakers (e.g. %s) are not in %s; cross-entropy has no output "
                        "for them, so their utterances are left out", data_dir, len(unknown),
                        unknown[0], self.data["speakers"])
        extra = {s: len(self.speakers) + i for i, s in enumerate(unknown)}
        ids = self.speakers.ids if self.loss_name == "cross_entropy" else {**extra, **self.speakers.ids}
        return {u: ids[s] for u, s in utt2spk.items() if s in ids}

    def sampler(self, dataset, train, world_size=1):
        self.every_copy_only()
        conf = self.config["train"]
        labels = {k: dataset.targets[k] for k in dataset.keys}
        return SpeakerBatches(labels, conf["speakers_per_batch"], conf["segments_per_speaker"],
                              conf["batches_per_epoch"] if train else 0, conf["seed"], train)

    def collate(self, keys, dataset):
        frames = self.segment_frames
        feats = []
        for key in keys:
            mat = torch.as_tensor(dataset[key])
            start = None
            if getattr(dataset, "train", False) and len(mat) > frames:
                start = int(torch.randint(0, len(mat) - frames + 1, ()))
            feats.append(fit_segment(mat, frames, start))
        return self.make_batch(keys, feats, [dataset.targets[k] for k in keys])

    def make_batch(self, keys, feats, targets):
        batch = {"keys": keys, "feats": torch.stack([fit_segment(m, self.segment_frames)
                                                     for m in feats])}
        if targets is not None:
            batch["labels"] = torch.tensor(targets, dtype=torch.long)
        return batch

    # --- loss and metrics ----------------------------------------------------------------------
    def loss(self, model, batch):
        logits = model(batch["feats"]).float()
        labels = batch["labels"]
        if self.pair_loss is None:
            total = F.cross_entropy(logits, labels, reduction="sum")
            errors = (logits.argmax(-1) != labels).sum().item()
            return total, len(labels), {"loss": total.item(), "errors": errors,
                                        "segments": len(labels)}
        total, pairs, _ = self.pair_loss(torch.softmax(logits, dim=-1), labels)
        return total, pairs, {"loss": total.item()}

    def metrics(self, sums, count):
        out = {"loss": sums["loss"] / max(count, 1)}
        if sums.get("segments"):
            out["acc"] = 100.0 * (1.0 - sums["errors"] / sums["segments"])
        return out

    # --- embeddings ----------------------------------------------------------------------------
    def resolve_layer(self, model, layer=None):
        """A layer name of the network; None or 'hidden' is its default embedding layer."""
        if layer in (None, HIDDEN):
            return model.default_layer
        if layer not in model.layers:
            raise SpeechkitError(f"embedding layer '{layer}': {type(model).__name__} has "
                                 f"{', '.join((HIDDEN,) + tuple(model.layers))}")
        return layer

    def embed(self, model, feats_list, layer):
        """(D,) embedding of each (T, D) matrix (see embed_utterances)."""
        return embed_utterances(model, feats_list, self.segment_frames, layer)


@torch.no_grad()
def embed_utterances(model, feats_list, segment_frames, layer, hop=None, max_segments=256):
    """(D,) float32 numpy embedding of each (T, D) matrix: the mean of `layer` over its
    segments (hop: default half a segment; segments side by side cost about 2/3 as much but
    were worse, e.g. test EER 5.20% against 4.50% on one siamese CNN of the recipe); the model
    should be in eval mode."""
    pieces = [segments(m, segment_frames, hop or max(1, segment_frames // 2)) for m in feats_list]
    x = torch.cat(pieces)
    device = next(model.parameters()).device
    out = torch.cat([model.embed(x[i:i + max_segments].to(device), layer).float().cpu()
                     for i in range(0, len(x), max_segments)])
    bounds = np.cumsum([0] + [len(p) for p in pieces])
    return [out[a:b].mean(0).numpy() for a, b in zip(bounds[:-1], bounds[1:])]

"""Utterance classification (keywords, later emotions): one label per utterance, cross-entropy.

Labels come from a table of the data dir (`text` for keywords; `utt2emo`-like tables for other
tasks, config `data.label_table`) and the label list (`make-tokens --unit label`). Clips are
padded with silence or cropped to `model.clip_frames`, so an utterance's output never depends
on what it was batched with.
"""
import logging
import shutil

import torch

from speechkit.data.tokens import TokenList
from speechkit.io import read_dict
from speechkit.nn.registry import MODELS
from speechkit.tasks.base import Task, register

log = logging.getLogger("speechkit.train")


def fit_frames(mat, frames):
    """Crop (centred) or zero-pad a (T, D) matrix to `frames` rows."""
    mat = torch.as_tensor(mat)
    if len(mat) >= frames:
        start = (len(mat) - frames) // 2
        return mat[start:start + frames]
    return torch.cat([mat, mat.new_zeros(frames - len(mat), mat.shape[1])])


class ClassificationTask(Task):
    label_table = "text"
    stats = ("loss", "errors")

    def __init__(self, config, model_dir):
        super().__init__(config, model_dir)
        self.labels = TokenList.read(config["data"]["tokens"])
        self.clip_frames = config["model"].get("clip_frames")

    def prepare(self, data):
        shutil.copy(data["tokens"], self.model_dir / "tokens.txt")

    def build_model(self, input_dim):
        conf = {k: v for k, v in self.config["model"].items() if k not in ("name", "clip_frames")}
        return MODELS.get(self.config["model"]["name"])(input_dim, len(self.labels), **conf)

    def targets(self, data_dir, lengths):
        table = read_dict(data_dir / self.config["data"].get("label_table", self.label_table))
        unknown = sorted({v for k, v in table.items() if k in lengths and v not in self.labels.ids})
        if unknown:
            log.warning("%s: labels %s are not in the label list; those utterances are left out",
                        data_dir, ", ".join(unknown[:5]))
        return {k: self.labels.ids[v] for k, v in table.items() if k in lengths and v in self.labels.ids}

    def make_batch(self, keys, feats, targets):
        frames = self.clip_frames or max(len(m) for m in feats)
        batch = {"keys": keys, "feats": torch.stack([fit_frames(m, frames) for m in feats])}
        if targets is not None:
            batch["targets"] = torch.tensor(targets, dtype=torch.long)
        return batch

    def loss(self, model, batch):
        logits = model(batch["feats"])
        losses = torch.nn.functional.cross_entropy(logits.float(), batch["targets"], reduction="none")
        errors = (logits.argmax(-1) != batch["targets"]).sum().item()
        return losses.sum(), len(losses), {"loss": losses.sum().item(), "errors": errors}

    def metrics(self, sums, count):
        return {"loss": sums["loss"] / max(count, 1), "acc": 100.0 * (1 - sums["errors"] / max(count, 1))}

    @torch.no_grad()
    def posteriors(self, model, feats_list):
        """Softmax posteriors (N, classes) of a list of (T, D) matrices."""
        return torch.softmax(model(self.make_batch(None, feats_list, None)["feats"]).float(), -1)


@register("kws")
class KeywordTask(ClassificationTask):
    """Keyword spotting: labels from `text` (a keyword, _unknown_ or _silence_)."""
    defaults = {"model": {"name": "kws_cnn", "frontend": "logmel", "clip_frames": 98}}

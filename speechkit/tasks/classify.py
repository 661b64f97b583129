"""Utterance classification (keywords, later emotions): one label per utterance, cross-entropy.

Labels come from a table of the data dir (`text` for keywords; `utt2emo`-like tables for other
tasks, config `data.label_table`) and the label list (`make-tokens --unit label`). Clips are
padded with silence or cropped to `model.clip_frames`, so an utterance's output never depends
on what it was batched with.
"""
import logging

import torch

from speechkit.data.tokens import TokenList
from speechkit.io import read_dict
from speechkit.nn.registry import build_model
from speechkit.tasks.base import FeatureTask, register

log = logging.getLogger("speechkit.train")


def fit_frames(mat, frames):
    """Crop (centred) or zero-pad a (T, D) matrix to `frames` rows."""
    mat = torch.as_tensor(mat)
    if len(mat) >= frames:
        start = (len(mat) - frames) // 2
        return mat[start:start + frames]
    return torch.cat([mat, mat.new_zeros(frames - len(mat), mat.shape[1])])


class ClassificationTask(FeatureTask):
    stats = ("loss", "errors")
    assets = {**FeatureTask.assets, "tokens": "tokens.txt"}

    def __init__(self, config, model_dir):
        super().__init__(config, model_dir)
        self.labels = TokenList.read(self.data["tokens"])
        self.label_table = self.data["label_table"]
        self.clip_frames = config["model"].get("clip_frames")

    def build_model(self, input_dim):
        return build_model(self.config["model"], input_dim, len(self.labels), skip=("clip_frames",))

    def targets(self, data_dir, lengths):
        table = read_dict(data_dir / self.label_table)
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
    defaults = {"model": {"name": "kws_cnn", "frontend": "logmel", "clip_frames": 98},
                "data": {"tokens": None, "label_table": "text"}}

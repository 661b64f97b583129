"""Speech recognition with CTC: character targets from `text`, CTC loss, greedy CER on dev."""
import logging
import shutil

import torch

from speechkit.data.tokens import CharTokens
from speechkit.decode.ctc import greedy_search
from speechkit.io import read_dict
from speechkit.metrics.wer import align
from speechkit.nn.registry import MODELS
from speechkit.tasks.base import Task, register
from speechkit.train.batching import pad

log = logging.getLogger("speechkit.train")


def ctc_frames_needed(ids):
    """CTC needs a frame per label plus a blank between equal neighbours."""
    return len(ids) + sum(1 for a, b in zip(ids, ids[1:]) if a == b)


@register("asr")
class ASRTask(Task):
    defaults = {"model": {"name": "ctc_bilstm", "hidden": 256, "layers": 3, "dropout": 0.2,
                          "subsample": 1}}
    stats = ("loss", "char_errors", "chars")

    def __init__(self, config, model_dir):
        super().__init__(config, model_dir)
        self.tokens = CharTokens.read(config["data"]["tokens"])
        self.model = None

    def prepare(self, data):
        shutil.copy(data["tokens"], self.model_dir / "tokens.txt")

    def build_model(self, input_dim):
        conf = dict(self.config["model"])
        self.model = MODELS.get(conf.pop("name"))(input_dim, len(self.tokens), **conf)
        return self.model

    def targets(self, data_dir, lengths):
        """Token ids of each transcript; utterances too short for theirs are named and dropped."""
        text = read_dict(data_dir / "text", allow_empty=True)
        out_lengths = self.model.output_lengths(torch.tensor(list(lengths.values())))
        targets = {}
        for (utt, frames), out_len in zip(lengths.items(), out_lengths.tolist()):
            if utt not in text:
                continue
            ids = self.tokens.encode(text[utt])
            needed = ctc_frames_needed(ids)
            if out_len < needed:
                log.warning("%s/text (key %s): %d frames after subsampling (%d before) but the "
                            "transcript needs %d for CTC; left out", data_dir, utt, out_len,
                            frames, needed)
                continue
            targets[utt] = ids
        return targets

    def make_batch(self, keys, feats, targets):
        x, lengths = pad(feats)
        batch = {"keys": keys, "feats": x, "lengths": lengths}
        if targets is not None:
            batch["targets"] = torch.tensor([t for ids in targets for t in ids], dtype=torch.long)
            batch["target_lengths"] = torch.tensor([len(t) for t in targets], dtype=torch.long)
        return batch

    def loss(self, model, batch):
        log_probs, out_lengths = model(batch["feats"], batch["lengths"])
        # Infeasible utterances were left out by targets(); zero_infinity is the last guard.
        losses = torch.nn.functional.ctc_loss(
            log_probs.transpose(0, 1).float(), batch["targets"], out_lengths,
            batch["target_lengths"], blank=0, reduction="none", zero_infinity=True)
        stats = {"loss": losses.sum().item()}
        if not torch.is_grad_enabled():
            stats.update(self._char_errors(log_probs, out_lengths, batch))
        return losses.sum(), len(losses), stats

    def _char_errors(self, log_probs, out_lengths, batch):
        errors = chars = 0
        start = 0
        for i, n in enumerate(batch["target_lengths"].tolist()):
            ref = self.tokens.decode(batch["targets"][start:start + n].tolist()).replace(" ", "")
            hyp = self.tokens.decode(greedy_search(log_probs[i], int(out_lengths[i]))).replace(" ", "")
            errors += align(list(ref), list(hyp)).errors
            chars += len(ref)
            start += n
        return {"char_errors": errors, "chars": chars}

    def metrics(self, sums, count):
        out = {"loss": sums["loss"] / max(count, 1)}
        if sums.get("chars"):
            out["cer"] = 100.0 * sums["char_errors"] / sums["chars"]
        return out

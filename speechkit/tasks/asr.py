"""Speech recognition with CTC: character targets from `text`, CTC loss, greedy CER on dev."""
import logging

import torch

from speechkit.data.batch import pad
from speechkit.data.tokens import UNK, CharTokens
from speechkit.errors import SpeechkitError
from speechkit.io import read_dict
from speechkit.metrics.wer import align
from speechkit.nn.registry import build_model
from speechkit.search.ctc import greedy_search
from speechkit.tasks.base import FeatureTask, register

log = logging.getLogger("speechkit.train")


def ctc_frames_needed(ids):
    """CTC needs a frame per label plus a blank between equal neighbours."""
    return len(ids) + sum(1 for a, b in zip(ids, ids[1:]) if a == b)


@register("asr")
class ASRTask(FeatureTask):
    defaults = {"model": {"name": "ctc_bilstm", "hidden": 256, "layers": 3, "dropout": 0.2,
                          "subsample": 1},
                "data": {"tokens": None}}
    stats = ("loss", "char_errors", "chars")
    assets = {**FeatureTask.assets, "tokens": "tokens.txt"}

    def __init__(self, config, model_dir):
        super().__init__(config, model_dir)
        self.tokens = CharTokens.read(self.data["tokens"])
        self.model = None

    def build_model(self, input_dim):
        self.model = build_model(self.config["model"], input_dim, len(self.tokens))
        return self.model

    def targets(self, data_dir, lengths):
        """Token ids of each transcript; utterances too short for theirs are named and dropped,
        empty transcripts and characters outside the token list are counted with an example."""
        text = read_dict(data_dir / "text", allow_empty=True)
        out_lengths = self.model.output_lengths(torch.tensor(list(lengths.values())))
        targets, empty, unknown = {}, [], []
        for (utt, frames), out_len in zip(lengths.items(), out_lengths.tolist()):
            if utt not in text:
                continue
            ids = self.tokens.encode(text[utt])
            if not ids:
                empty.append(utt)
                continue
            if self.tokens.ids[UNK] in ids:
                unknown.append(utt)
            needed = ctc_frames_needed(ids)
            if out_len < needed:
                log.warning("%s/text (key %s): %d frames after subsampling (%d before) but the "
                            "transcript needs %d for CTC; left out", data_dir, utt, out_len,
                            frames, needed)
                continue
            targets[utt] = ids
        self._report(data_dir, len(lengths), empty, unknown)
        return targets

    def _report(self, data_dir, total, empty, unknown):
        if empty and len(empty) == total:
            raise SpeechkitError(f"{data_dir}/text: every transcript is empty; nothing to train on")
        if empty:
            log.warning("%s/text: %d of %d transcripts are empty (e.g. key %s); left out",
                        data_dir, len(empty), total, empty[0])
        if unknown:
            log.warning("%s/text: %d of %d transcripts have characters missing from %s, mapped "
                        "to <unk> (e.g. key %s); was the token list made from this text?",
                        data_dir, len(unknown), total, self.data["tokens"], unknown[0])

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

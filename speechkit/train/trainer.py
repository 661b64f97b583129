"""The shared trainer: epochs over bucketed batches, checkpoints that resume exactly, early stop.

Exact resume: everything random is either restored from the checkpoint (torch/python RNG,
optimizer, scheduler, scaler) or a function of (seed, epoch) (the batch order), and a checkpoint
taken mid-epoch records how many batches were done; so a run killed at any point and resumed
ends with the same weights as one that never stopped (on CPU; cuDNN may differ on GPU).
"""
import contextlib
import logging
import math
import time
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from speechkit.errors import SpeechkitError
from speechkit.progress import progress
from speechkit.train import checkpoint as ckpt
from speechkit.train.batching import shard
from speechkit.train.optim import build_optimizer, build_scheduler, scheduler_step
from speechkit.train.plot import plot_history
from speechkit.train.threads import choose_threads, usable_cpus

log = logging.getLogger("speechkit.train")


class Trainer:
    def __init__(self, task, model, config, exp_dir, train_set, dev_set, device, dist):
        self.task, self.config, self.exp = task, config, Path(exp_dir)
        self.train_set, self.dev_set = train_set, dev_set
        self.device, self.dist = device, dist
        self.tconf = config["train"]
        self.model = model.to(device)
        self.net = (DistributedDataParallel(self.model, device_ids=[device] if device.type == "cuda" else None)
                    if dist.enabled else self.model)
        self.optimizer = build_optimizer(self.model, config["optim"])
        self.scheduler = build_scheduler(self.optimizer, config["optim"].get("scheduler"))
        self.amp = bool(self.tconf.get("amp")) and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.state = {"epoch": 0, "step": 0, "batches_done": 0, "partial": None, "history": [],
                      "best_loss": math.inf, "bad_epochs": 0, "done": False}
        self.train_sampler = task.sampler(train_set, True, dist.world_size)
        self.dev_batches = task.sampler(dev_set, False, dist.world_size).batches(0)
        log.info("%d parameters on %s, world size %d; train: %s; %d dev batches",
                 sum(p.numel() for p in self.model.parameters()), device, dist.world_size,
                 self.train_sampler.describe(), len(self.dev_batches))

    # --- checkpoints -------------------------------------------------------------------------
    def state_dict(self):
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                "rng": ckpt.rng_state(), "trainer": self.state}

    def save(self):
        if self.dist.is_main:
            ckpt.save(self.state_dict(), self.exp / "checkpoint.pt", keep_previous=True)

    def resume(self):
        path = self.exp / "checkpoint.pt"
        saved = ckpt.load_latest(path, self.device)
        if saved is None:
            return False
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        self.scaler.load_state_dict(saved["scaler"])
        ckpt.set_rng_state(saved["rng"])
        self.state = saved["trainer"]
        log.info("resumed from %s: epoch %d done, %d batches into the next", path,
                 self.state["epoch"], self.state["batches_done"])
        return True

    # --- one batch ---------------------------------------------------------------------------
    def _batch(self, keys, dataset):
        batch = self.task.collate(keys, dataset)
        return {k: v.to(self.device) if torch.is_tensor(v) else v for k, v in batch.items()}

    def _autocast(self):
        if self.amp:
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def train_step(self, global_batch):
        """One update on this rank's share; the loss is normalised by the weight the task's
        loss returns (utterances, frames, pairs), summed over ranks."""
        keys = shard(global_batch, self.dist.rank, self.dist.world_size)
        batch = self._batch(keys, self.train_set)
        with self._autocast():
            loss_sum, count, stats = self.task.loss(self.net, batch)
        total = self.dist.all_reduce([float(count)])[0]
        # DDP averages gradients over ranks, so scale by world_size / global weight.
        loss = loss_sum * (self.dist.world_size / max(total, 1e-12))
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config["optim"]["clip"])
        if torch.isfinite(grad_norm) or self.amp:
            self.scaler.step(self.optimizer)  # with AMP, the scaler itself skips inf steps
        else:
            log.warning("step %d: gradient norm is %s; update skipped", self.state["step"], grad_norm.item())
        self.scaler.update()
        return count, stats

    # --- epochs ------------------------------------------------------------------------------
    def train_epoch(self, epoch):
        self.model.train()
        order = self.train_sampler.batches(epoch)
        start = self.state["batches_done"]
        sums, count = self.state["partial"] or ({}, 0)
        every = self.tconf.get("checkpoint_every", 0)
        bar = progress(order[start:], desc=f"epoch {epoch}", unit="batch")
        for i, global_batch in enumerate(bar, start + 1):
            n, stats = self.train_step(global_batch)
            count += n
            for name, value in stats.items():
                sums[name] = sums.get(name, 0.0) + float(value)
            self.state["step"] += 1
            self.task.on_step_end(self)
            if i % self.tconf["log_every"] == 0:
                log.info("epoch %d batch %d/%d: loss %.4f", epoch, i, len(order), sums["loss"] / count)
            if every and i % every == 0 and i < len(order):
                self.state.update(batches_done=i, partial=(sums, count))
                self.save()
        return self._reduce(sums, count)

    def _reduce(self, sums, count):
        names = list(self.task.stats)
        totals = self.dist.all_reduce([count] + [sums.get(k, 0.0) for k in names])
        return self.task.metrics(dict(zip(names, totals[1:])), totals[0])

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        sums, count = {}, 0
        for global_batch in self.dev_batches:
            keys = shard(global_batch, self.dist.rank, self.dist.world_size)
            if not keys:
                continue
            with self._autocast():
                _, n, stats = self.task.loss(self.model, self._batch(keys, self.dev_set))
            count += n
            for name, value in stats.items():
                sums[name] = sums.get(name, 0.0) + float(value)
        return self._reduce(sums, count)

    def end_epoch(self, epoch, train_metrics, dev_metrics, seconds):
        dev_loss = dev_metrics["loss"]
        scheduler_step(self.scheduler, dev_loss)
        improved = dev_loss < self.state["best_loss"]
        self.state.update(epoch=epoch, batches_done=0, partial=None,
                          best_loss=min(dev_loss, self.state["best_loss"]),
                          bad_epochs=0 if improved else self.state["bad_epochs"] + 1)
        self.state["history"].append({"epoch": epoch, "train": train_metrics, "dev": dev_metrics,
                                      "lr": self.optimizer.param_groups[0]["lr"], "seconds": seconds})
        fmt = lambda m: " ".join(f"{k} {v:.4f}" for k, v in m.items())  # noqa: E731
        log.info("epoch %d (%.1f s): train %s | dev %s | lr %.2e%s", epoch, seconds, fmt(train_metrics),
                 fmt(dev_metrics), self.optimizer.param_groups[0]["lr"], " *" if improved else "")
        if self.dist.is_main:
            ckpt.save(self.model.state_dict(), self.exp / f"epoch{epoch}.pt")
            plot_history(self.state["history"], self.exp / "images")
        self.save()

    def should_stop(self):
        patience = self.tconf.get("patience", 0)
        if patience and self.state["bad_epochs"] >= patience:
            log.info("early stop: dev loss has not improved for %d epochs", patience)
            return True
        return False

    def fit(self):
        while self.state["epoch"] < self.tconf["epochs"] and not self.should_stop():
            epoch = self.state["epoch"] + 1
            tic = time.time()
            self._set_threads()
            train_metrics = self.train_epoch(epoch)
            self.task.on_epoch_end(self, epoch)
            self.end_epoch(epoch, train_metrics, self.evaluate(), time.time() - tic)
        self.finish()

    def _set_threads(self):
        """Threads for this epoch from the idle CPUs (DDP ranks share them out evenly)."""
        if self.device.type != "cpu":
            return
        setting = self.tconf["num_threads"]
        if self.dist.enabled and setting == "auto":
            setting = max(1, usable_cpus() // self.dist.world_size)
        threads = choose_threads(setting)
        if threads != torch.get_num_threads():
            log.info("using %d CPU threads", threads)
            torch.set_num_threads(threads)

    def finish(self):
        """best.pt -> the best epoch; ave.pt = mean of the keep_nbest best epochs."""
        history = self.state["history"]
        if not history:
            raise SpeechkitError(f"{self.exp}: no epoch was trained (train.epochs is 0?)")
        ranked = sorted(history, key=lambda h: h["dev"]["loss"])[:self.tconf["keep_nbest"]]
        self.state["done"] = True
        if self.dist.is_main:
            ckpt.link(self.exp / f"epoch{ranked[0]['epoch']}.pt", self.exp / "best.pt")
            epochs = [h["epoch"] for h in ranked]
            ckpt.save(ckpt.average([self.exp / f"epoch{e}.pt" for e in epochs]), self.exp / "ave.pt")
            log.info("best epoch %d; ave.pt averages epochs %s", epochs[0], epochs)
        self.save()

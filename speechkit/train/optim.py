"""Optimizers and schedulers by name, from the config's `optim` section."""
import torch

from speechkit.errors import SpeechkitError


def param_groups(model, conf):
    """The model's parameters, or with `optim.frontend_lr` two groups: the rest at optim.lr first
    (the one the trainer logs and the schedulers' first), then `model.frontend` at frontend_lr."""
    for key in ("lr", "frontend_lr"):
        lr = conf.get(key)
        if lr is not None and not (isinstance(lr, (int, float)) and lr >= 0):
            raise SpeechkitError(f"optim.{key} must be a number >= 0, got {lr!r}")
    if conf.get("frontend_lr") is None:
        return model.parameters()
    frontend = getattr(model, "frontend", None)
    if not isinstance(frontend, torch.nn.Module):
        raise SpeechkitError(f"optim.frontend_lr: network {type(model).__name__} has no frontend "
                             f"submodule; remove the key")
    ids = {id(p) for p in frontend.parameters()}
    groups = [{"params": [p for p in model.parameters() if id(p) not in ids]},
              {"params": list(frontend.parameters()), "lr": conf["frontend_lr"]}]
    return [g for g in groups if g["params"]]


def build_optimizer(model, conf):
    params = param_groups(model, conf)
    name = conf.get("name", "adam")
    if name == "adam":
        return torch.optim.Adam(params, lr=conf["lr"], weight_decay=conf.get("weight_decay", 0.0))
    if name == "adamw":
        return torch.optim.AdamW(params, lr=conf["lr"], weight_decay=conf.get("weight_decay", 0.01))
    if name == "sgd":
        return torch.optim.SGD(params, lr=conf["lr"], momentum=conf.get("momentum", 0.9))
    raise SpeechkitError(f"unknown optim.name '{name}'; use adam, adamw or sgd")


class NoScheduler:
    def step(self, metric=None):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def build_scheduler(optimizer, conf):
    """Stepped once per epoch with the dev loss (plateau) or without (step, none)."""
    conf = dict(conf or {"name": "none"})
    name = conf.pop("name", "none")
    if name == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=conf.get("factor", 0.5), patience=conf.get("patience", 1))
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=conf.get("step_size", 5),
                                               gamma=conf.get("gamma", 0.5))
    if name == "none":
        return NoScheduler()
    raise SpeechkitError(f"unknown optim.scheduler.name '{name}'; use plateau, step or none")


def scheduler_step(scheduler, dev_loss):
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(dev_loss)
    else:
        scheduler.step()

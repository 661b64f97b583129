"""optim.frontend_lr: the frontend's parameters in their own Adam group (main group first), the
default unchanged, schedulers and checkpoint resume with two groups, bad values one line."""
import pytest
import torch

from test_train import asr_data, train_cmd  # noqa: F401  (asr_data: a fixture)
from speechkit.bin.train import main as train_main
from speechkit.errors import SpeechkitError
from speechkit.nn.registry import build_model
from speechkit.train import checkpoint as ckpt
from speechkit.train.config import DEFAULTS, check_config, merge
from speechkit.train.optim import build_optimizer, build_scheduler, scheduler_step

OPTIM = {"name": "adam", "lr": 0.002, "weight_decay": 0.0, "clip": 5.0,
         "scheduler": {"name": "plateau", "factor": 0.5, "patience": 0}}


def kws_model(seed=0, **pcen):
    torch.manual_seed(seed)
    conf = {"name": "kws_cnn", "frontend": "pcen", "channels": [4, 8], "hidden": 8,
            "dropout": 0.0, "pcen": pcen}  # no dropout: steps are a function of the batch
    return build_model(conf, 8, 3)


def step(model, optimizer, seed):
    """One optimizer step on a fixed random batch."""
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.rand(4, 16, 8, generator=gen) * 100, torch.randint(0, 3, (4,), generator=gen)
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()


def test_two_groups_with_the_configured_rates():
    model = kws_model(smoother="mixture")
    optimizer = build_optimizer(model, {**OPTIM, "frontend_lr": 0.01})
    main, front = optimizer.param_groups
    assert (main["lr"], front["lr"]) == (0.002, 0.01)
    frontend = {id(p) for p in model.frontend.parameters()}
    assert {id(p) for p in front["params"]} == frontend and len(frontend) == 4
    assert {id(p) for p in main["params"]} == {id(p) for p in model.parameters()} - frontend
    before = {n: p.detach().clone() for n, p in model.frontend.named_parameters()}
    step(model, optimizer, 0)
    for name, p in model.frontend.named_parameters():  # Adam's first step moves each by ~lr
        assert (p.detach() - before[name]).abs().max() == pytest.approx(0.01, rel=1e-3)


def test_default_is_todays_optimizer_bit_for_bit():
    ours, today = kws_model(), kws_model()
    opt_ours = build_optimizer(ours, OPTIM)
    opt_today = torch.optim.Adam(today.parameters(), lr=0.002, weight_decay=0.0)
    assert len(opt_ours.param_groups) == 1
    assert opt_ours.state_dict() == opt_today.state_dict()
    for seed in range(3):
        step(ours, opt_ours, seed)
        step(today, opt_today, seed)
    for a, b in zip(ours.state_dict().values(), today.state_dict().values()):
        assert torch.equal(a, b)


def test_plateau_halves_both_groups_and_resume_restores_both(tmp_path):
    conf = {**OPTIM, "frontend_lr": 0.01}
    model = kws_model()
    optimizer = build_optimizer(model, conf)
    scheduler = build_scheduler(optimizer, conf["scheduler"])
    for epoch, dev_loss in enumerate([1.0, 2.0]):  # patience 0: the second epoch halves
        step(model, optimizer, epoch)
        scheduler_step(scheduler, dev_loss)
    assert [g["lr"] for g in optimizer.param_groups] == [0.001, 0.005]
    ckpt.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
               "scheduler": scheduler.state_dict()}, tmp_path / "checkpoint.pt")

    saved = ckpt.load(tmp_path / "checkpoint.pt")
    resumed = kws_model(seed=1)
    opt2 = build_optimizer(resumed, conf)
    sched2 = build_scheduler(opt2, conf["scheduler"])
    resumed.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["optimizer"])
    sched2.load_state_dict(saved["scheduler"])
    assert [g["lr"] for g in opt2.param_groups] == [0.001, 0.005]
    for run_model, run_opt, run_sched in ((model, optimizer, scheduler), (resumed, opt2, sched2)):
        step(run_model, run_opt, 7)
        scheduler_step(run_sched, 3.0)
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in optimizer.param_groups]
    for a, b in zip(model.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_a_frontend_without_parameters_keeps_one_group():
    torch.manual_seed(0)
    model = build_model({"name": "kws_cnn", "frontend": "logmel", "channels": [4, 8]}, 8, 3)
    assert len(build_optimizer(model, {**OPTIM, "frontend_lr": 0.01}).param_groups) == 1


@pytest.mark.parametrize("conf,message", [
    ({"frontend_lr": -0.1}, "optim.frontend_lr must be a number >= 0, got -0.1"),
    ({"lr": -1.0}, "optim.lr must be a number >= 0"),
])
def test_negative_rates_are_errors(conf, message):
    with pytest.raises(SpeechkitError, match=message):
        build_optimizer(kws_model(), {**OPTIM, **conf})


def test_config_check_knows_the_key_without_putting_it_in_saved_configs():
    assert "frontend_lr" not in DEFAULTS["optim"]  # earlier runs' config.yaml still match
    check_config(merge(DEFAULTS, {"optim": {"frontend_lr": 0.01}}), DEFAULTS, "c.yaml")
    with pytest.raises(SpeechkitError, match="c.yaml: optim.frontend_lr must be float"):
        check_config(merge(DEFAULTS, {"optim": {"frontend_lr": "fast"}}), DEFAULTS, "c.yaml")
    with pytest.raises(SpeechkitError, match="did you mean optim.frontend_lr"):
        check_config(merge(DEFAULTS, {"optim": {"frontend_lrr": 0.01}}), DEFAULTS, "c.yaml")


def test_frontend_lr_without_a_frontend_is_one_line_and_writes_nothing(
        asr_data, tmp_path, capsys):  # noqa: F811
    exp = tmp_path / "exp"
    argv = train_cmd(asr_data, exp, "optim.frontend_lr=0.01")[4:]  # after "-m speechkit... train"
    assert train_main(argv) == 1
    assert capsys.readouterr().err.splitlines() == [
        "speechkit train: error: optim.frontend_lr: network CTCBiLSTM has no frontend submodule; "
        "remove the key"]
    assert not exp.exists()

"""Wang et al.'s smoother for the PCEN layer: a learned per-band softmax mixture of fixed EMA
smoothers, against a plain loop over frames; K = 1, causality, training, options, the plot."""
import math

import matplotlib
import numpy as np
import pytest
import torch

from speechkit.bin.plot_frontends import draw_params
from speechkit.errors import SpeechkitError
from speechkit.nn.pcen import MIXTURE_COEFS, PCEN
from speechkit.nn.registry import build_model

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

F64 = torch.float64
COEFS = [0.015, 0.02, 0.04, 0.08]


def energies(shape, seed=0, scale=1e5):
    """Gamma-distributed energies with a silent stretch (as the layer's own tests use)."""
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.gamma(0.5, scale, size=shape))
    x[..., 3:8] = 0.0
    return x.to(F64)


def mixture_layer(bands, coefs=COEFS, seed=0, **kwargs):
    """A float64 mixture layer with every parameter moved off its initial value."""
    layer = PCEN(bands, smoother="mixture", smoother_coefs=coefs, dtype=F64, **kwargs)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=gen, dtype=F64))
    return layer


def reference(x, layer):
    """sum_k softmax(logits)_k EMA_k by a plain Python loop over frames, then PCEN's compression
    written out: x (N, F, T), layout bft."""
    weights = torch.softmax(layer.smoother_logits, dim=-1)            # (F, K)
    alpha, delta, r = layer.log_alpha.exp(), layer.log_delta.exp(), layer.log_r.exp()
    start = {"first": x[..., 0], "zero": torch.zeros_like(x[..., 0]),
             "librosa": torch.ones_like(x[..., 0])}[layer.init]
    states = [start for _ in layer.smoother_coefs]
    frames = []
    for t in range(x.shape[-1]):
        states = [(1 - s) * m + s * x[..., t]
                  for s, m in zip(layer.smoother_coefs.tolist(), states)]
        m = sum(weights[:, k] * states[k] for k in range(len(states)))
        y = (x[..., t] / (layer.eps + m) ** alpha + delta) ** r - delta ** r
        frames.append(y)
    return torch.stack(frames, dim=-1)


def all_grads(out, x, layer, weight):
    return torch.autograd.grad((out * weight).sum(), [x, *layer.parameters()])


@pytest.mark.parametrize("init,chunk", [("first", 4), ("zero", 64), ("librosa", 8)])
def test_mixture_equals_loop_reference_values_and_gradients(init, chunk):
    layer = mixture_layer(3, init=init, chunk=chunk)
    x = energies((2, 3, 37)).requires_grad_()
    weight = torch.randn(2, 3, 37, generator=torch.Generator().manual_seed(1), dtype=F64)
    out, ref = layer(x), reference(x, layer)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)
    for got, want in zip(all_grads(out, x, layer, weight), all_grads(ref, x, layer, weight)):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)


def test_gradcheck_float64():
    layer = mixture_layer(2, coefs=[0.1, 0.5, 0.9], chunk=2)
    x = (torch.rand(1, 2, 6, dtype=F64, generator=torch.Generator().manual_seed(2)) + 0.5)
    names = [n for n, _ in layer.named_parameters()]
    values = [p.detach().clone().requires_grad_() for p in layer.parameters()]

    def run(x, *params):
        return torch.func.functional_call(layer, dict(zip(names, params)), (x,))

    assert torch.autograd.gradcheck(run, (x.requires_grad_(), *values))


@pytest.mark.parametrize("init", ["first", "zero", "librosa"])
def test_one_smoother_is_the_fixed_s_pcen(init):
    mixed = mixture_layer(4, coefs=[0.04], init=init)
    fixed = PCEN(4, s=0.04, init=init, dtype=F64)
    with torch.no_grad():
        for name in ("log_alpha", "log_delta", "log_r"):
            getattr(fixed, name).copy_(getattr(mixed, name))
    assert torch.equal(mixed.smoother_weights, torch.ones(4, 1, dtype=F64))
    x = energies((3, 4, 80), seed=3)
    torch.testing.assert_close(mixed(x), fixed(x), rtol=1e-12, atol=1e-12)


def test_padding_never_changes_real_frames():
    layer = mixture_layer(5, layout="btf", chunk=8)
    short = energies((1, 5, 30), seed=4).transpose(1, 2)                # (1, T, F)
    garbage = energies((2, 5, 70), seed=5).transpose(1, 2) * 1e3
    batch = garbage.clone()
    batch[0, :30] = short[0]
    alone, batched = layer(short), layer(batch)
    torch.testing.assert_close(batched[0, :30], alone[0], rtol=1e-12, atol=1e-12)
    # and the other way: changing the frames after t never changes frames <= t
    later = batch.clone()
    later[:, 40:] = 0
    torch.testing.assert_close(layer(later)[:, :40], batched[:, :40], rtol=0, atol=0)


def test_weights_move_when_the_loss_asks():
    """Targets made with all weight on the slowest smoother: training the logits alone moves the
    weights towards it and lowers the loss."""
    torch.manual_seed(0)
    target_layer = PCEN(6, smoother="mixture", smoother_coefs=COEFS, dtype=F64)
    with torch.no_grad():
        target_layer.smoother_logits[:, 0] = 20.0
    layer = PCEN(6, smoother="mixture", smoother_coefs=COEFS, dtype=F64,
                 trainable=("s",))
    x = energies((4, 6, 60), seed=6)
    target = target_layer(x).detach()
    opt = torch.optim.Adam(layer.parameters(), lr=0.1)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    weights = layer.smoother_weights.detach()
    assert losses[-1] < 0.05 * losses[0]
    assert (weights[:, 0] > 0.8).all(), weights
    assert layer.log_alpha.grad is None  # frozen: untouched


def test_parameters_state_and_frozen_mixture():
    layer = PCEN(3, smoother="mixture")
    assert layer.smoother_coefs.tolist() == list(MIXTURE_COEFS)
    assert set(layer.state_dict()) == {"smoother_logits", "log_alpha", "log_delta", "log_r"}
    assert layer.smoother_logits.shape == (3, 4)
    torch.testing.assert_close(layer.smoother_weights, torch.full((3, 4), 0.25))
    frozen = PCEN(3, smoother="mixture", trainable=())
    frozen(torch.rand(1, 3, 10, requires_grad=True)).sum().backward()
    assert all(p.grad is None for p in frozen.parameters())
    with pytest.raises(SpeechkitError, match="no single s"):
        layer.s
    with pytest.raises(RuntimeError, match="smoother_logits"):  # an ema checkpoint cannot load
        layer.load_state_dict(PCEN(3).state_dict())


@pytest.mark.parametrize("kwargs,message", [
    ({"smoother": "iir"}, "pcen smoother must be one of ema|mixture, got 'iir'"),
    ({"smoother": "mixture", "smoother_coefs": []}, "smoother_coefs must be a non-empty list"),
    ({"smoother": "mixture", "smoother_coefs": [0.02, 1.5]}, "smoother_coefs must be"),
    ({"smoother": "mixture", "smoother_coefs": [0.0]}, "smoother_coefs must be"),
    ({"smoother": "mixture", "smoother_coefs": "0.02"}, "smoother_coefs must be"),
    ({"smoother_coefs": [0.02]}, "smoother_coefs is only for smoother: mixture"),
])
def test_bad_options_are_one_line_naming_the_key(kwargs, message):
    with pytest.raises(SpeechkitError, match=message) as err:
        PCEN(4, **kwargs)
    assert "\n" not in str(err.value)


def test_config_reaches_the_layer_and_bad_values_fail_there():
    conf = {"name": "kws_cnn", "frontend": "pcen", "channels": [4, 8],
            "pcen": {"smoother": "mixture", "smoother_coefs": [0.02, 0.08]}}
    model = build_model(conf, 8, 3)
    assert model.frontend.pcen.smoother_coefs.tolist() == [0.02, 0.08]
    assert model(torch.rand(2, 20, 8)).shape == (2, 3)
    conf["pcen"]["smoother_coefs"] = [-0.1]
    with pytest.raises(SpeechkitError, match="smoother_coefs"):
        build_model(conf, 8, 3)


def test_plot_draws_the_weights_for_the_mixture_and_lines_for_ema():
    fig, axes = plt.subplots(1, 3)
    layer = mixture_layer(5, layout="btf")
    draw_params(axes, layer, fig)
    image = axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(image, layer.smoother_weights.detach().T.numpy())
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["0.015", "0.02", "0.04", "0.08"]
    plt.close(fig)
    fig, axes = plt.subplots(1, 3)
    draw_params(axes, PCEN(5), fig)
    assert [len(ax.get_lines()) for ax in axes] == [1, 2, 1]
    assert not axes[0].get_images()
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(), np.full(5, 0.025), rtol=1e-6)
    assert math.isclose(axes[2].get_lines()[0].get_ydata()[0], 2.0, rel_tol=1e-6)
    plt.close(fig)


def test_plot_pcen_params_shows_the_effective_smoother_coefficient():
    """plot-pcen-params' s of a mixture is sum_k w_k(f) s_k: worked by hand for two bands."""
    from speechkit.bin.plot_pcen_params import learned
    layer = PCEN(2, smoother="mixture", smoother_coefs=(0.01, 0.03))
    with torch.no_grad():
        layer.smoother_logits.copy_(torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]]))
    values = learned(layer)
    assert list(values) == ["s", "alpha", "delta", "r"]
    np.testing.assert_allclose(values["s"], [0.02, 0.75 * 0.01 + 0.25 * 0.03], rtol=1e-6)
    np.testing.assert_allclose(learned(PCEN(3, s=0.04))["s"], [0.04] * 3, rtol=1e-6)
    np.testing.assert_allclose(values["delta"], [2.0, 2.0], rtol=1e-6)

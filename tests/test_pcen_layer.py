"""The trainable PCEN layer: its chunked scan against a plain loop, the layer against librosa.pcen
and speechkit.features.pcen, layouts, s parametrisations, frozen parameters, numerical safety."""
import librosa
import numpy as np
import pytest
import torch

from speechkit.errors import SpeechkitError
from speechkit.features.pcen import pcen as pcen_reference
from speechkit.features.pcen import smoothing_coef
from speechkit.nn.pcen import (NAMES, PCEN, S_PARAMS, ema, ema_lfilter, ema_loop, pcen_naive,
                               s_from_time_constant)

F64 = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


def energies(shape, seed=0, dtype=F64):
    """Gamma-distributed energies on the int16 power scale, with a silent stretch and a spike."""
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.gamma(0.5, 1e5, size=shape) * rng.uniform(size=shape[:-1] + (1,)))
    x[..., 5:20] = 0.0
    x[..., shape[-1] // 2] *= 100
    return x.to(dtype)


def randomised(layer, seed=0, spread=0.2):
    """The layer with per-band parameters spread around their initial values."""
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(spread * torch.randn(p.shape, generator=gen(seed), dtype=p.dtype))
    return layer


def grads(out, weight, inputs):
    return torch.autograd.grad((out * weight).sum(), inputs)


# --- the smoother ---------------------------------------------------------------------------

@pytest.mark.parametrize("chunk", [2, 3, 7, 64, 100, 128, 500])
def test_chunked_scan_equals_loop_values_and_gradients(chunk):
    torch.manual_seed(0)
    x = torch.rand(2, 3, 5, 300, dtype=F64, requires_grad=True)
    s = torch.tensor([0.001, 0.02, 0.1, 0.5, 0.97], dtype=F64, requires_grad=True)
    prev = torch.rand(2, 3, 5, dtype=F64, requires_grad=True)
    weight = torch.randn(2, 3, 5, 300, dtype=F64)
    ref, got = ema_loop(x, s, prev), ema(x, s, prev, chunk=chunk)
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)
    for g, r in zip(grads(got, weight, (x, s, prev)), grads(ref, weight, (x, s, prev))):
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-10)


def test_lfilter_smoother_equals_loop():
    x, prev = torch.rand(2, 4, 50, dtype=F64), torch.rand(2, 4, dtype=F64)
    s = torch.rand(4, dtype=F64)
    torch.testing.assert_close(ema_lfilter(x, s, prev), ema_loop(x, s, prev))


def test_scan_is_causal():
    """Frames appended after the end (padding) never change the earlier outputs."""
    layer = randomised(PCEN(4, dtype=F64))
    x = energies((2, 4, 70))
    with torch.no_grad():
        torch.testing.assert_close(layer(x)[..., :50], layer(x[..., :50]), rtol=1e-12, atol=0)


# --- the layer against its references --------------------------------------------------------

@pytest.mark.parametrize("init", ["first", "zero", "librosa"])
@pytest.mark.parametrize("chunk", [5, 64])
def test_layer_equals_autograd_reference(init, chunk):
    """Values and all gradients (input and the four raw parameters) of the hand-written backward."""
    layer = randomised(PCEN(6, s=0.1, init=init, chunk=chunk, dtype=F64), seed=1)
    x = energies((3, 6, 130)).requires_grad_()
    weight = torch.randn(3, 6, 130, generator=gen(2), dtype=F64)
    inputs = [x, *layer.parameters()]
    got = layer(x)
    ref = pcen_naive(x, layer.s, layer.alpha, layer.delta, layer.r, init=init)
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)
    for g, r in zip(grads(got, weight, inputs), grads(ref, weight, inputs)):
        torch.testing.assert_close(g, r, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("params", [{}, {"gain": 0.8, "bias": 10.0, "power": 0.25, "eps": 1e-4},
                                    {"gain": 1.5, "bias": 0.1, "power": 2.0, "eps": 1e-8}])
@pytest.mark.parametrize("s_param", S_PARAMS)
def test_layer_equals_librosa_pcen(params, s_param):
    e = np.random.default_rng(2).gamma(0.5, 1e5, size=(40, 300))
    ref = librosa.pcen(e, sr=16000, hop_length=160, time_constant=0.06, **params)
    s = smoothing_coef(0.06, 16000 / 160)
    kw = {"alpha": "gain", "delta": "bias", "r": "power", "eps": "eps"}
    ours = {k: params[v] for k, v in kw.items() if v in params}
    layer = PCEN(40, s=s, s_param=s_param, init="librosa", dtype=F64, **ours)
    with torch.no_grad():
        got = layer(torch.from_numpy(e)[None])[0].numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("init", ["librosa", "first", "zero"])
def test_layer_equals_static_pcen(init):
    frames = np.random.default_rng(3).gamma(0.5, 1e5, size=(250, 23))
    s = smoothing_coef(0.4, 100.0)
    ref = pcen_reference(frames, s, gain=0.9, bias=3.0, power=0.4, eps=1e-5, init=init)
    layer = PCEN(23, s=s, alpha=0.9, delta=3.0, r=0.4, eps=1e-5, init=init, layout="btf",
                 dtype=F64)
    with torch.no_grad():
        got = layer(torch.from_numpy(frames)[None])[0].numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_backward_twice_with_retained_graph():
    layer = randomised(PCEN(3, dtype=F64))
    x = energies((2, 3, 50)).requires_grad_()
    y = layer(x)
    first = torch.autograd.grad(y.sum(), [x, *layer.parameters()], retain_graph=True)
    second = torch.autograd.grad(y.sum(), [x, *layer.parameters()])
    for a, b in zip(first, second):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_float32_close_to_float64():
    x = energies((4, 8, 500))
    layer64 = randomised(PCEN(8, dtype=F64))
    layer32 = PCEN(8)
    layer32.load_state_dict({k: v.float() for k, v in layer64.state_dict().items()})
    with torch.no_grad():
        got = layer32(x.float())
        assert got.dtype == torch.float32
        torch.testing.assert_close(got.double(), layer64(x), rtol=2e-5, atol=2e-6)


# --- layouts and options ---------------------------------------------------------------------

def test_layouts_give_the_same_numbers_and_gradients():
    x = energies((2, 3, 7, 90))                              # (batch, channels, bands, time)
    weight = torch.randn(2, 3, 7, 90, generator=gen(4), dtype=F64)
    state = randomised(PCEN(7, dtype=F64)).state_dict()
    inputs = {"bft": x.reshape(6, 7, 90), "btf": x.reshape(6, 7, 90).transpose(1, 2),
              "bctf": x.transpose(2, 3)}
    back = {"bft": lambda y: y.reshape(2, 3, 7, 90),
            "btf": lambda y: y.transpose(1, 2).reshape(2, 3, 7, 90),
            "bctf": lambda y: y.transpose(2, 3)}
    results = {}
    for layout, xin in inputs.items():
        layer = PCEN(7, layout=layout, dtype=F64)
        layer.load_state_dict(state)
        xin = xin.contiguous().requires_grad_()
        y = layer(xin)
        assert y.shape == xin.shape and y.is_contiguous()
        (back[layout](y) * weight).sum().backward()
        results[layout] = (back[layout](y), back[layout](xin.grad), layer.log_s.grad)
    for layout in ("btf", "bctf"):
        for got, ref in zip(results[layout], results["bft"]):
            torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("s_param", S_PARAMS)
def test_s_parametrisations_start_at_s(s_param):
    layer = PCEN(5, s=0.025, s_param=s_param, dtype=F64)
    torch.testing.assert_close(layer.s, torch.full((5,), 0.025, dtype=F64), rtol=1e-13, atol=0)
    assert layer.raw_name("s") in dict(layer.named_parameters())


def test_sigmoid_keeps_s_inside_and_time_constant_is_librosas():
    layer = PCEN(4, s_param="sigmoid", dtype=F64)
    with torch.no_grad():
        layer.logit_s.copy_(torch.tensor([-30.0, -5.0, 5.0, 30.0]))
    assert ((layer.s > 0) & (layer.s < 1)).all()
    t = torch.tensor([1e-3, 0.5, 6.0, 40.0, 1e6], dtype=F64)
    librosa_s = (torch.sqrt(1 + 4 * t ** 2) - 1) / (2 * t ** 2)
    torch.testing.assert_close(s_from_time_constant(t), librosa_s, rtol=1e-9, atol=0)
    assert ((s_from_time_constant(t) > 0) & (s_from_time_constant(t) < 1)).all()


@pytest.mark.parametrize("trainable,train", [
    (("alpha", "r"), {"alpha", "r"}), ("s", {"s"}), ((), set()), (False, set()),
    (True, set(NAMES)), (("delta", "s", "r", "alpha"), set(NAMES)),
])
def test_frozen_parameters_get_no_gradient(trainable, train):
    layer = PCEN(3, trainable=trainable)
    x = energies((2, 3, 40), dtype=torch.float32)
    out = layer(x)
    if train:
        out.sum().backward()
    for name in NAMES:
        p = getattr(layer, layer.raw_name(name))
        assert p.requires_grad == (name in train)
        assert (p.grad is not None) == (name in train)
    assert set(layer.state_dict()) == {layer.raw_name(n) for n in NAMES}


@pytest.mark.parametrize("kwargs,message", [
    ({"s_param": "exp"}, "s_param must be one of log|sigmoid|time_constant"),
    ({"init": "ones"}, "init must be one of librosa|first|zero"),
    ({"layout": "tbf"}, "layout must be one of bft|btf|bctf"),
    ({"chunk": 1}, "chunk >= 2"),
    ({"s": 1.0}, "0 < s < 1"),
    ({"trainable": ("gain",)}, "trainable must be"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(SpeechkitError, match=message):
        PCEN(4, **kwargs)


def test_bad_shape_and_empty_input():
    with pytest.raises(SpeechkitError, match="wants 3 dims with 4 bands on axis -2"):
        PCEN(4)(torch.ones(2, 5, 10))
    assert PCEN(4)(torch.ones(2, 4, 0)).shape == (2, 4, 0)


# --- numerical safety ----------------------------------------------------------------------

@pytest.mark.parametrize("s_param", S_PARAMS)
@pytest.mark.parametrize("init", ["first", "zero", "librosa"])
def test_finite_on_silence_and_loud_input(s_param, init):
    layer = PCEN(4, s_param=s_param, init=init)
    loud = torch.full((2, 4, 100), 1e8)
    loud[0, :, :30] = 0.0
    for x in (torch.zeros(2, 4, 100), loud, torch.full((1, 4, 3), 1e-30)):
        x.requires_grad_()
        out = layer(x)
        out.sum().backward()
        assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
        assert all(torch.isfinite(p.grad).all() for p in layer.parameters())
        layer.zero_grad()


@pytest.fixture
def one_thread():
    """Tiny tensors: one thread, so that a busy second core cannot stall every op."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("s_param", S_PARAMS)
def test_adam_training_stays_finite(s_param, one_thread):
    """1000 Adam steps on a toy objective, inputs with silent utterances and bands."""
    torch.manual_seed(0)
    layer = PCEN(6, s_param=s_param, chunk=16)
    opt = torch.optim.Adam(layer.parameters(), lr=1e-2)
    target = torch.rand(4, 6, 40) * 3
    losses = []
    for step in range(1000):
        x = torch.distributions.Gamma(0.5, 1e-4).sample((4, 6, 40))
        x[step % 4] = 0.0
        x[:, step % 6, : step % 40] = 0.0
        loss = ((layer(x) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all() and np.mean(losses[-50:]) < 0.8 * np.mean(losses[:50])
    assert all(torch.isfinite(p).all() for p in layer.parameters())
    assert ((layer.s > 0) & (layer.s <= 1)).all()
    with torch.no_grad():
        assert torch.isfinite(layer(torch.zeros(1, 6, 40))).all()

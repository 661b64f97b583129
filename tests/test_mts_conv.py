"""Multi-time-scale convolution: the layer against nn.Conv2d and an explicit composition of
F.interpolate / F.conv2d (the authors' recipe), hand-worked resampling, gradients in-graph and
faithful, output types x training modes, padding modes, and the emotion networks."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from speechkit.errors import SpeechkitError
from speechkit.nn.emotion_cnn import EmotionCNN, count_parameters
from speechkit.nn.mts_conv import (OUTPUT_TYPES, TRAINING_MODES, MultiscaleConv2d,
                                   resample_kernel, resize_map)
from speechkit.nn.registry import MODELS

F64 = torch.float64
SCALES = [(0.6, 1.0), (1.5, 1.4)]


def gen(seed):
    return torch.Generator().manual_seed(seed)


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=gen(seed), dtype=F64)


def layer(cin=2, cout=3, kernel=(4, 3), seed=0, **kw):
    torch.manual_seed(seed)
    return MultiscaleConv2d(cin, cout, kernel, dtype=F64, **{"scale_factors": SCALES, **kw})


def reference_maps(x, w, b, scales, penalty=0.0):
    """The branches as the authors build them: F.interpolate(w, scale_factor=s) kernels, maps
    resized back with F.interpolate(size=...), times 1 - lambda |ln s_time|."""
    maps = [F.conv2d(x, w, b)]
    for s in scales:
        ws = F.interpolate(w, scale_factor=s, mode="bilinear", align_corners=False)
        fmap = F.interpolate(F.conv2d(x, ws, b), size=maps[0].shape[-2:], mode="bilinear",
                             align_corners=False)
        maps.append(fmap * (1 - penalty * abs(math.log(s[0]))))
    return maps


# --- resampling and resizing ----------------------------------------------------------------

def test_kernel_resampling_hand_worked():
    w = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64).view(1, 1, 4, 1)
    # source index (d + 0.5) / s - 0.5, clamped at 0; floor(4 * s) taps
    assert resample_kernel(w, (0.5, 1.0)).flatten().tolist() == [1.5, 3.5]
    expected = [1.0, 1.5, 13 / 6, 17 / 6, 3.5, 4.0]
    assert np.allclose(resample_kernel(w, (1.5, 1.0)).flatten().numpy(), expected)
    # the authors' kernel [10, 5] and scale sets give floor(k * s) taps in time
    sizes = MultiscaleConv2d(1, 2, (10, 5), scale_factors=[(0.5, 1), (0.7, 1), (1.428, 1),
                                                          (2, 1)]).branch_kernel_sizes
    assert sizes == ((10, 5), (5, 5), (7, 5), (14, 5), (20, 5))


def test_map_resizing_hand_worked():
    fmap = torch.tensor([0.0, 3.0, 6.0], dtype=F64).view(1, 1, 3, 1)
    # source index 1.5 (d + 0.5) - 0.5: 0.25 and 1.75
    assert resize_map(fmap, (2, 1)).flatten().tolist() == [0.75, 5.25]
    assert resize_map(fmap, (3, 1)) is fmap


def test_branches_match_explicit_interpolation():
    mts = layer(stretch_penalty=0.3, output_type="concat_fmaps")
    x = rand(2, 2, 13, 11, seed=1)
    maps = reference_maps(x, mts.weight, mts.bias, SCALES, penalty=0.3)
    with torch.no_grad():
        assert torch.allclose(mts(x), torch.cat(maps, dim=2))
        mts.output_type = "pooled_map"
        assert torch.allclose(mts(x), torch.stack(maps).max(0).values)


# --- equivalence with nn.Conv2d ---------------------------------------------------------------

@pytest.mark.parametrize("scales", [[], [(1, 1)]])
def test_unit_scale_equals_conv2d(scales):
    conv = nn.Conv2d(2, 3, (4, 3), padding=1, dtype=F64)
    mts = MultiscaleConv2d(2, 3, (4, 3), padding=1, dtype=F64, scale_factors=scales)
    mts.load_state_dict(conv.state_dict())
    x = rand(2, 2, 9, 8).requires_grad_()
    g = rand(2, 3, 8, 8, seed=1)
    expected = torch.autograd.grad((conv(x) * g).sum(), [x, conv.weight, conv.bias])
    out = mts(x)
    assert torch.equal(out, conv(x))
    got = torch.autograd.grad((out * g).sum(), [x, mts.weight, mts.bias])
    for a, b in zip(got, expected):
        assert torch.allclose(a, b)
    assert mts.get_stretch_percs()[0] == 1.0  # ties go to the original


def test_parameters_are_those_of_conv2d():
    conv = nn.Conv2d(3, 4, (10, 5))
    mts = MultiscaleConv2d(3, 4, (10, 5), scale_factors=[(0.5, 1), (0.7, 1), (1.428, 1), (2, 1)])
    assert [(n, p.shape) for n, p in mts.named_parameters()] == \
        [(n, p.shape) for n, p in conv.named_parameters()]
    assert sum(p.numel() for p in mts.parameters()) == sum(p.numel() for p in conv.parameters())
    mts.load_state_dict(conv.state_dict())  # strict: a Conv2d checkpoint loads as it is
    assert list(mts.state_dict()) == ["weight", "bias"]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "circular"])
@pytest.mark.parametrize("padding", [1, "same"])
def test_padding_modes(padding, padding_mode):
    conv = nn.Conv2d(2, 3, (4, 3), padding=padding, padding_mode=padding_mode, dtype=F64)
    unit = MultiscaleConv2d(2, 3, (4, 3), padding=padding, padding_mode=padding_mode,
                            dtype=F64, scale_factors=[(1, 1)])
    unit.load_state_dict(conv.state_dict())
    x = rand(2, 2, 11, 9)
    assert torch.allclose(unit(x), conv(x))
    mts = MultiscaleConv2d(2, 3, (4, 3), padding=padding, padding_mode=padding_mode,
                           dtype=F64, scale_factors=[(0.5, 1), (1.5, 1.4)])
    out = mts(x)
    assert out.shape[1:] == mts.output_shape(11, 9)
    if padding == "same":
        assert out.shape[-2:] == x.shape[-2:]


# --- gradients --------------------------------------------------------------------------------

def test_in_graph_gradients_equal_the_composition():
    mts = layer(stretch_penalty=0.2)
    x = rand(2, 2, 13, 11, seed=1).requires_grad_()
    g = rand(2, 3, 10, 9, seed=2)
    maps = reference_maps(x, mts.weight, mts.bias, SCALES, penalty=0.2)
    ref = torch.stack(maps).max(0).values
    expected = torch.autograd.grad((ref * g).sum(), [x, mts.weight, mts.bias])
    out = mts(x)
    assert torch.allclose(out, ref)
    got = torch.autograd.grad((out * g).sum(), [x, mts.weight, mts.bias])
    for a, b in zip(got, expected):
        assert torch.allclose(a, b)


@pytest.mark.parametrize("faithful", [False, True])
def test_every_branch_reaches_the_kernel_unless_faithful(faithful):
    mts = layer(faithful=faithful)
    x = rand(2, 2, 13, 11, seed=1)
    out = mts(x)
    winners = mts._winners
    assert set(winners.unique().tolist()) == {0, 1, 2}
    for branch in range(3):
        mask = (winners == branch).to(F64)  # gradient only where this branch won
        w_grad, b_grad = torch.autograd.grad((out * mask).sum(), [mts.weight, mts.bias],
                                             retain_graph=True)
        assert b_grad.abs().sum() > 0  # the bias is shared by every branch in both modes
        if faithful and branch > 0:
            assert torch.equal(w_grad, torch.zeros_like(w_grad))
        else:
            assert w_grad.abs().sum() > 0


def test_faithful_forward_equals_in_graph_forward():
    x = rand(2, 2, 13, 11, seed=1)
    assert torch.allclose(layer(faithful=True)(x), layer(faithful=False)(x))


def test_update_kernels():
    ingraph, faithful = layer(), layer(faithful=True)
    before = faithful.weight.detach().clone()
    expected = torch.stack([before] + [
        F.interpolate(F.interpolate(before, scale_factor=s, mode="bilinear"),
                      size=before.shape[-2:], mode="bilinear") for s in SCALES]).mean(0)
    assert faithful.update_kernels()
    assert torch.allclose(faithful.weight, expected)
    assert not torch.allclose(faithful.weight, before)
    w = ingraph.weight.detach().clone()
    assert not ingraph.update_kernels() and torch.equal(ingraph.weight, w)
    only_eval = layer(faithful=True, training_mode="only_eval")
    w = only_eval.weight.detach().clone()
    assert not only_eval.update_kernels() and torch.equal(only_eval.weight, w)


# --- output types x training modes ------------------------------------------------------------

def original_only(out_type, conv_out):
    if out_type == "concat_fmaps":
        return torch.cat([conv_out] * 3, dim=2)
    if out_type == "interleave_chdim":
        return torch.stack((conv_out, torch.zeros_like(conv_out)), dim=2).flatten(1, 2)
    return conv_out


USES_ALL = {"train_and_eval": (True, True), "only_eval": (False, True),
            "only_train": (True, False), "only_gradients": (False, False)}  # (train, eval)


@pytest.mark.parametrize("out_type", OUTPUT_TYPES)
@pytest.mark.parametrize("mode", TRAINING_MODES)
@pytest.mark.parametrize("training", [True, False])
def test_output_types_and_training_modes(out_type, mode, training):
    mts = layer(training_mode=mode, output_type=out_type, stretch_penalty=0.2, padding=(1, 2))
    mts.train(training)
    x = rand(3, 2, 13, 11, seed=1).requires_grad_()  # odd sizes everywhere
    mts.training_mode = "train_and_eval"
    full_out = mts(x)
    mts.training_mode = mode
    out = mts(x)
    assert out.shape == (3, *mts.output_shape(13, 11))
    g = rand(*out.shape, seed=2)
    grads = torch.autograd.grad((out * g).sum(), [x, mts.weight, mts.bias])
    assert all(torch.isfinite(t).all() and t.abs().sum() > 0 for t in grads)
    uses_all = USES_ALL[mode][0 if training else 1]
    conv_out = F.conv2d(x, mts.weight, mts.bias, padding=(1, 2))
    expected = full_out if uses_all else original_only(out_type, conv_out)
    assert torch.allclose(out, expected)
    if mode == "only_gradients" and training:  # the multi-scale output's gradient
        expected = full_out
    ref = torch.autograd.grad((expected * g).sum(), [x, mts.weight, mts.bias])
    for a, b in zip(grads, ref):
        assert torch.allclose(a, b)


def test_interleaved_scale_index():
    mts = layer(output_type="interleave_chdim")
    x = rand(2, 2, 13, 11, seed=1)
    out = mts(x)
    maps = reference_maps(x, mts.weight, mts.bias, SCALES)
    pooled, winners = torch.stack(maps).max(0)
    log_scale = torch.tensor([0.0, math.log(0.6), math.log(1.5)], dtype=F64)[winners]
    assert torch.allclose(out[:, 0::2], pooled) and torch.allclose(out[:, 1::2], log_scale)


def test_stretch_percs():
    mts = layer()
    assert mts.get_stretch_percs() is None
    x = rand(4, 2, 13, 11, seed=1)
    mts(x)
    winners = torch.stack(reference_maps(x, mts.weight, mts.bias, SCALES)).max(0).indices
    expected = np.bincount(winners.flatten().numpy(), minlength=3) / winners.numel()
    assert np.allclose(mts.get_stretch_percs(), expected)
    assert mts.get_stretch_percs().sum() == pytest.approx(1.0)
    evaluating = layer(training_mode="only_eval")  # training: the original kernel alone
    evaluating(x)
    assert evaluating.get_stretch_percs().tolist() == [1.0, 0.0, 0.0]


def test_stretch_penalty_favours_the_original():
    x = rand(4, 2, 13, 11, seed=1)
    shares = []
    for penalty in (0.0, 0.5):
        mts = layer(stretch_penalty=penalty)
        mts(x)
        shares.append(mts.get_stretch_percs()[0])
    assert shares[1] > shares[0]


@pytest.mark.parametrize("kw, words", [
    (dict(output_type="pooled"), "output_type"),
    (dict(training_mode="only_gradient"), "training_mode"),  # the authors' misspelling
    (dict(scale_factors=[(0.1, 1)]), "scale_factors"),
    (dict(scale_factors=[0.5]), "scale_factors"),
    (dict(scale_factors=[(0.25, 1)], stretch_penalty=1.0), "stretch_penalty"),
])
def test_bad_options(kw, words):
    with pytest.raises(SpeechkitError, match=words):
        layer(**kw)


def test_input_too_short_for_a_branch():
    mts = layer(scale_factors=[(2, 1)])  # time kernel 8
    with pytest.raises(SpeechkitError, match="frames"):
        mts(rand(1, 2, 6, 11))


# --- the emotion networks -----------------------------------------------------------------------

NET = dict(kernel=[4, 3], channels=4, dense=16, scale_factors=[[0.5, 1], [2, 1]])


def test_registered():
    assert MODELS.get("emotion_cnn") is EmotionCNN


@pytest.mark.parametrize("layers", [1, 2])
def test_mts_network_has_the_parameters_of_the_standard_one(layers):
    kw = dict(NET, layers=layers, clip_frames=40)
    standard = EmotionCNN(30, 4, conv="standard", **kw)
    mts = EmotionCNN(30, 4, conv="mts", **kw)
    assert count_parameters(mts) == count_parameters(standard)


@pytest.mark.parametrize("layers, conv, out_type", [
    (1, "mts", "pooled_map"), (2, "mts", "pooled_map"), (2, "mts", "interleave_chdim"),
    (1, "mts", "concat_fmaps"), (2, "standard", "pooled_map")])
def test_network_overfits_a_tiny_batch(layers, conv, out_type):
    torch.manual_seed(0)
    net = EmotionCNN(24, 4, conv=conv, layers=layers, output_type=out_type, clip_frames=20,
                     **NET)
    x = torch.randn(8, 20, 24, generator=gen(1))
    y = torch.arange(8) % 4  # random inputs: only memorising fits them
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(80):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    assert (net(x).argmax(1) == y).all()


def test_network_clip_frames_pads_and_crops():
    net = EmotionCNN(24, 3, conv="mts", clip_frames=20, **NET).eval()
    x = torch.randn(2, 26, 24, generator=gen(1))
    assert torch.equal(net(x), net(x[:, :20]))
    short = x[:, :15]
    assert torch.equal(net(short), net(F.pad(short, (0, 0, 0, 5))))


def test_network_without_clip_takes_any_length():
    net = EmotionCNN(24, 3, conv="mts", layers=2, **NET).eval()
    assert net.min_frames == 2 * 8 + 4 - 1  # pooled first map >= the largest kernel (8)
    for frames in (3, 30, 41):
        assert net(torch.randn(2, frames, 24)).shape == (2, 3)


def test_network_stretch_percs_and_update_hook():
    net = EmotionCNN(24, 3, conv="mts", layers=2, faithful=True, clip_frames=20, **NET)
    net(torch.randn(2, 20, 24))
    percs = net.stretch_percs()
    assert list(percs) == ["conv1", "conv2"]
    assert all(p.shape == (3,) and p.sum() == pytest.approx(1.0) for p in percs.values())
    before = net.convs[0].weight.detach().clone()
    assert net.update_kernels()
    assert not torch.equal(net.convs[0].weight, before)
    assert not EmotionCNN(24, 3, conv="mts", clip_frames=20, **NET).update_kernels()
    assert EmotionCNN(24, 3, conv="standard", clip_frames=20, **NET).stretch_percs() == {}


@pytest.mark.parametrize("kw, words", [
    (dict(clip_frames=5), "clip_frames"), (dict(conv="multi"), "conv"),
    (dict(layers=3), "layers")])
def test_network_bad_options(kw, words):
    with pytest.raises(SpeechkitError, match=words):
        EmotionCNN(24, 3, **{**NET, "conv": "mts", **kw})
    with pytest.raises(SpeechkitError, match="input_dim"):
        EmotionCNN(2, 3, **NET)

"""PHASEN (speechkit.nn.phasen): STFT round trip against torch.istft and a numpy framing, exact
output lengths, padding invariance, NaN-free loss and gradients at silence, ablations, parameter
counts against hand formulas, overfitting one pair, and chunked inference seams."""
import numpy as np
import pytest
import torch

from speechkit.errors import SpeechkitError
from speechkit.nn.phasen import (PAPER, SMALL, STFT, PHASEN, compress, parameter_count,
                                 parameter_summary, phasen_loss)
from speechkit.nn.phasen_blocks import unit_phase
from speechkit.nn.phasen_chunks import chunk_starts, enhance_long
from speechkit.nn.registry import MODELS

# F = 33 bins, 4/4 channels: the full structure (3 TSBs, both streams) at a toy size.
TINY = dict(n_fft=64, win_length=48, hop_length=12, channels_a=4, channels_p=4, lstm_units=8,
            fc_units=8)
ABLATIONS = {"paper": {}, "no_ftb": dict(use_ftb=False), "no_comm": dict(communication=False),
             "amp_only": dict(phase_stream=False), "channel_att": dict(ftb_attention="channel")}


def model(seed=0, **conf):
    torch.manual_seed(seed)
    return PHASEN(**{**TINY, **conf})


def speech_like(n, seed=0, noise=0.0):
    """Harmonics with a slow envelope (+ white noise), float32 (1, n)."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n) / 16000
    x = sum(torch.sin(2 * np.pi * 150 * k * t + k) / k for k in range(1, 6))
    x = 0.2 * x * (0.6 + 0.4 * torch.sin(2 * np.pi * 3 * t))
    return (x + noise * torch.randn(n, generator=g)).unsqueeze(0)


# --- STFT ------------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [1, 37, 480, 999, 1601])
@pytest.mark.parametrize("hop", [12, 24])
def test_stft_round_trip_and_torch_istft(length, hop):
    stft = STFT(64, 48, hop)
    x = torch.randn(3, length, dtype=torch.float64)
    spec = stft(x)
    assert spec.shape == (3, 1 + length // hop, 33)
    y = stft.inverse(spec, length)
    torch.testing.assert_close(y, x, rtol=0, atol=1e-10)
    ref = torch.istft(spec.transpose(1, 2), 64, hop, 48, torch.hann_window(48, dtype=x.dtype),
                      center=True, length=length)
    torch.testing.assert_close(y, ref, rtol=0, atol=1e-6)   # torch's own edges are off by ~1e-7


def test_stft_equals_numpy_framing():
    """Zero padding of n_fft/2 at both ends, a periodic Hann of 400 centred in 512, hop 100."""
    x = np.random.default_rng(0).standard_normal(1234)
    got = STFT()(torch.from_numpy(x)[None])[0].numpy()
    window = np.zeros(512)
    window[56:456] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)
    padded = np.pad(x, 256)
    frames = np.stack([padded[t * 100:t * 100 + 512] for t in range(1 + 1234 // 100)])
    np.testing.assert_allclose(got, np.fft.rfft(frames * window, axis=-1), atol=1e-10)


def test_inverse_in_a_padded_batch_equals_alone():
    stft = STFT(64, 48, 12)
    long, short = torch.randn(1, 500, dtype=torch.float64), torch.randn(1, 203, dtype=torch.float64)
    batch = torch.cat([long, torch.nn.functional.pad(short, (0, 297))])
    spec = stft(batch)
    spec[1, 1 + 203 // 12:] = 7.0                 # garbage in the padded frames is ignored
    y = stft.inverse(spec, 500, torch.tensor([1 + 500 // 12, 1 + 203 // 12]))
    torch.testing.assert_close(y[1, :203], stft.inverse(stft(short), 203)[0])
    torch.testing.assert_close(y[1, :203], short[0])


# --- the network: shapes, heads, ablations ----------------------------------------------------

@pytest.mark.parametrize("length", [1, 37, 1001, 2047])
def test_output_has_exactly_the_input_length(length):
    net = model().eval()
    with torch.no_grad():
        out = net(torch.randn(2, length) * 0.1)
    frames = 1 + length // 12
    assert out["wav"].shape == (2, length)
    assert out["spec"].shape == out["mask"].shape == out["phase"].shape == (2, frames, 33)
    assert torch.isfinite(out["wav"]).all()


def test_phase_head_has_unit_magnitude_and_mask_is_in_0_1():
    net = model()
    out = net(speech_like(1500, noise=0.05))
    torch.testing.assert_close(out["phase"].abs(), torch.ones(out["phase"].shape), atol=1e-5,
                               rtol=0)
    assert 0 < out["mask"].min() and out["mask"].max() < 1


def test_unit_phase_is_finite_at_zero():
    re = torch.tensor([0.0, 3.0, -1e-3], requires_grad=True)
    im = torch.tensor([0.0, 4.0, 0.0], requires_grad=True)
    z = unit_phase(re, im)
    torch.testing.assert_close(z.abs(), torch.tensor([0.0, 1.0, 1.0]))
    torch.testing.assert_close(z[1], torch.tensor(0.6 + 0.8j))
    (z.real.sum() + z.imag.sum()).backward()
    assert torch.isfinite(re.grad).all() and torch.isfinite(im.grad).all()


@pytest.mark.parametrize("name", sorted(ABLATIONS))
def test_each_ablation_runs_forward_and_backward(name):
    net = model(**ABLATIONS[name]).train()
    noisy, clean = speech_like(900, noise=0.05), speech_like(900)
    out = net(noisy)
    sums, bins = net.loss_terms(out, clean)
    (sums.sum() / bins.sum()).backward()
    for pname, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
    assert sum(p.grad.abs().sum() for p in net.parameters()) > 0


def test_ablation_structure():
    noisy = speech_like(900, noise=0.05)
    amp_only = model(phase_stream=False).eval()
    with torch.no_grad():
        out = amp_only(noisy)
    spec = amp_only.spectrum(noisy)
    assert out["phase"] is None and amp_only.phase_head is None
    torch.testing.assert_close(out["spec"], spec * out["mask"])   # noisy phase, masked magnitude
    assert model(use_ftb=False).ftb_matrices() == {}
    mats = model().ftb_matrices()
    assert len(mats) == 6 and all(m.shape == (33, 33) for m in mats.values())

    # Without communication the mask does not depend on the phase stream at all.
    for comm, should_change in ((False, False), (True, True)):
        net = model(communication=comm).eval()
        with torch.no_grad():
            before = net(noisy)["mask"]
            net.stems.phase[0].conv.weight.mul_(-3.0)
            after = net(noisy)["mask"]
        assert (not torch.allclose(before, after, atol=1e-6)) == should_change


def test_registered_and_bad_options_are_clear():
    net = MODELS.get("phasen")(257, 1, **{**TINY, "ftb_attention": "channel"})
    assert isinstance(net, PHASEN)
    with pytest.raises(SpeechkitError, match="ftb_atention"):
        PHASEN(**TINY, ftb_atention="tf")
    with pytest.raises(SpeechkitError, match="model.ftb_attention"):
        PHASEN(**TINY, ftb_attention="freq")
    with pytest.raises(SpeechkitError, match="model.hop_length"):
        PHASEN(**{**TINY, "hop_length": 40})
    with pytest.raises(SpeechkitError, match="stereo"):
        model()(torch.zeros(1, 2, 100))
    for bad in (0, 1.5, "0.3", True):
        for key in ("loss_power", "input_power"):
            with pytest.raises(SpeechkitError, match=f"model.{key} must be in"):
                PHASEN(**TINY, **{key: bad})


def test_parameter_counts(capsys):
    """Hand formulas for the FTB and the amplitude head; the paper's size is in the millions."""
    small, paper = PHASEN(**SMALL), PHASEN(**PAPER)
    with capsys.disabled():
        print("\nPHASEN small config:\n" + parameter_summary(small))
        print("PHASEN paper config:\n" + parameter_summary(paper))
    f, ca, cr = 257, 96, 5
    ftb = paper.blocks[0].amp[0]
    assert parameter_count(ftb.freq_fc) == f * f
    assert parameter_count(ftb.att_conv) == cr * f * f * 9 + f                   # "tf" map
    chan = PHASEN(**PAPER, ftb_attention="channel").blocks[0].amp[0]
    assert parameter_count(chan.att_conv) == cr * f * ca * 9 + ca
    assert parameter_count(paper.amp_head.lstm) == 2 * 4 * 600 * (8 * f + 600 + 2)
    assert 10e6 < paper.parameter_count() < 100e6
    assert small.parameter_count() < paper.parameter_count()


@pytest.mark.parametrize("power", [1.0, 0.3])
def test_input_power_compresses_what_the_stems_see(power, monkeypatch):
    """model.input_power: the stems get |Y|^p e^{j angle Y} as (real, imaginary) channels; the
    mask still multiplies the uncompressed noisy spectrum (the amplitude-only output is
    mask x Y whatever p is)."""
    seen = []
    net = model(input_power=power, phase_stream=False).eval()
    orig = type(net.stems).forward
    monkeypatch.setattr(type(net.stems), "forward",
                        lambda self, x, fmask=None: seen.append(x) or orig(self, x, fmask))
    noisy = speech_like(1600, noise=0.1)
    with torch.no_grad():
        out = net(noisy)
    spec = net.spectrum(noisy)
    expected = spec.abs().pow(power) * torch.exp(1j * spec.angle())
    assert torch.allclose(seen[0][:, 0], expected.real, atol=1e-5)
    assert torch.allclose(seen[0][:, 1], expected.imag, atol=1e-5)
    assert torch.allclose(out["spec"], spec * out["mask"], atol=1e-6)


# --- loss, padding, silence ------------------------------------------------------------------

def test_loss_hand_worked():
    def loss(est, frames=None):
        return phasen_loss(est, clean, frames).item()

    clean = torch.zeros(1, 2, 3, dtype=torch.complex128)
    clean[0, 0, 1] = 2.0
    est = clean.clone()
    assert loss(est) == 0.0
    est[0, 0, 1] = 1.0       # same phase, half the magnitude: both terms (2^0.3 - 1)^2 / 2
    assert loss(est) == pytest.approx((2 ** 0.3 - 1) ** 2, rel=1e-9)
    est[0, 0, 1] = 2.0j      # right magnitude, 90 degrees off: 0.5 * |2^0.3 - 2^0.3 j|^2
    assert loss(est) == pytest.approx(2 ** 0.6, rel=1e-9)
    est[0, 1, 2] = 5.0       # a frame beyond frame_lengths: ignored
    assert loss(est, torch.tensor([1])) == pytest.approx(2 ** 0.6, rel=1e-9)
    est.zero_()              # against silence eps sets a floor of eps^0.15, 0.016 for 1e-12
    assert loss(est) == pytest.approx(2 ** 0.6, rel=0.02)


def test_asymmetric_loss_weighs_removed_speech_only():
    """loss_asymmetry a: a magnitude below the clean one costs a^2 on the magnitude term
    (0.5 a^2 d^2 + 0.5 d^2 at the same phase), one above it costs what the paper's loss does."""
    clean = torch.zeros(1, 1, 2, dtype=torch.complex128)
    clean[0, 0, 0] = 2.0
    under, over = clean.clone(), clean.clone()
    under[0, 0, 0], over[0, 0, 0] = 1.0, 4.0
    d_under, d_over = (2 ** 0.3 - 1) ** 2, (4 ** 0.3 - 2 ** 0.3) ** 2
    assert phasen_loss(under, clean, asymmetry=3.0).item() == pytest.approx(5 * d_under)
    assert phasen_loss(over, clean, asymmetry=3.0).item() == pytest.approx(d_over)
    assert phasen_loss(over, clean).item() == pytest.approx(d_over)
    for bad in (0.5, "2", True):
        with pytest.raises(SpeechkitError, match="model.loss_asymmetry must be"):
            PHASEN(**TINY, loss_asymmetry=bad)


def test_loss_power_option_reaches_the_loss():
    """model.loss_power replaces the paper's 0.3 in loss_terms: an output at half the clean
    magnitude, same phase, costs (1 - 0.5^p)^2 |S|^(2p) per bin (both terms alike)."""
    torch.manual_seed(0)
    clean = torch.randn(1, 1600)
    for power in (0.3, 0.5, 1.0):
        net = PHASEN(**TINY, loss_power=power)
        out = {"spec": 0.5 * net.spectrum(clean)}
        sums, bins = net.loss_terms(out, clean)
        mag = net.spectrum(clean).abs().double()
        expected = ((1 - 0.5 ** power) ** 2 * (mag.pow(2) + 1e-12).pow(power)).sum()
        assert sums.item() == pytest.approx(expected.item(), rel=1e-4)


def test_relative_loss_is_the_ratio_to_the_noisy_inputs():
    """model.loss_relative: each utterance's loss over the noisy input's, weight 1 apiece; the
    noisy input itself scores 1, half the clean spectrum (1 - 0.5^p)^2 / the noisy loss."""
    torch.manual_seed(0)
    clean = torch.randn(2, 1600)
    noisy = clean + torch.tensor([[0.3], [0.03]]) * torch.randn(2, 1600)
    net = PHASEN(**TINY, loss_power=0.5, loss_relative=True)
    plain = PHASEN(**TINY, loss_power=0.5)
    noisy_spec = net.spectrum(noisy)
    ratio, weights = net.loss_terms({"spec": noisy_spec, "noisy_spec": noisy_spec}, clean)
    assert ratio.tolist() == pytest.approx([1.0, 1.0], rel=1e-6)
    assert weights.tolist() == [1.0, 1.0]
    half = {"spec": 0.5 * net.spectrum(clean), "noisy_spec": noisy_spec}
    ratio = net.loss_terms(half, clean)[0]
    expected = plain.loss_terms(half, clean)[0] / plain.loss_terms({"spec": noisy_spec}, clean)[0]
    assert ratio.tolist() == pytest.approx(expected.tolist(), rel=1e-6)
    assert ratio[1] > 10 * ratio[0]      # the cleaner input weighs more: its noisy loss is smaller
    with pytest.raises(SpeechkitError, match="model.loss_relative"):
        PHASEN(**TINY, loss_relative="yes")


@pytest.mark.parametrize("which", ["both", "noisy", "clean"])
def test_silence_gives_no_nan(which):
    net = model().train()
    noisy, clean = speech_like(800, noise=0.05), speech_like(800)
    if which in ("both", "noisy"):
        noisy = torch.zeros_like(noisy)
    if which in ("both", "clean"):
        clean = torch.zeros_like(clean)
    out = net(noisy)
    sums, bins = net.loss_terms(out, clean)
    loss = sums.sum() / bins.sum()
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_compression_eps_is_what_keeps_gradients_finite():
    spec = torch.zeros(4, dtype=torch.complex64, requires_grad=True)
    naive = spec.abs().pow(0.3).sum() + (spec * spec.abs().pow(-0.7)).abs().sum()
    naive.backward()
    assert not torch.isfinite(spec.grad).all()     # the NaN that public code reports
    spec.grad = None
    c, m = compress(spec)
    (c.abs().sum() + m.sum()).backward()
    assert torch.isfinite(spec.grad).all()


def test_padding_garbage_does_not_change_loss():
    lengths = torch.tensor([1000, 613])
    noisy = torch.cat([speech_like(1000, 1, 0.05), speech_like(1000, 2, 0.05)])
    clean = torch.cat([speech_like(1000, 1), speech_like(1000, 2)])
    garbage_noisy, garbage_clean = noisy.clone(), clean.clone()
    garbage_noisy[1, 613:] = 5 * torch.randn(387)
    garbage_clean[1, 613:] = -3.0
    noisy[1, 613:] = clean[1, 613:] = 0.0
    net = model().train()       # batch norm on batch statistics: still the same
    zeros = net.loss_terms(net(noisy, lengths), clean, lengths)[0]
    garbage = net.loss_terms(net(garbage_noisy, lengths), garbage_clean, lengths)[0]
    torch.testing.assert_close(garbage, zeros, rtol=1e-6, atol=0)

    net.eval()                  # and in eval mode, the same as the utterance alone
    with torch.no_grad():
        out = net(garbage_noisy, lengths)
        batched = net.loss_terms(out, garbage_clean, lengths)[0]
        alone_out = net(noisy[1:, :613])
        alone = net.loss_terms(alone_out, clean[1:, :613])[0]
    torch.testing.assert_close(batched[1:], alone, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(out["wav"][1, :613], alone_out["wav"][0], rtol=1e-4, atol=1e-6)
    assert (out["wav"][1, 613:] == 0).all()


def test_tiny_model_overfits_one_pair():
    """50 Adam steps on one pair: the loss falls far below its start and below the noisy input's
    own loss against the clean one (what passing the input through would score)."""
    net = model(seed=1, lstm_units=16, fc_units=16, num_blocks=1).train()
    noisy, clean = speech_like(600, seed=3, noise=0.05), speech_like(600)
    passthrough = phasen_loss(net.spectrum(noisy), net.spectrum(clean)).item()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(50):
        sums, bins = net.loss_terms(net(noisy), clean)
        opt.zero_grad()
        sums.sum().backward()
        opt.step()
        losses.append(sums.item())
    assert losses[-1] < 0.3 * losses[0], losses[::10]
    assert losses[-1] < 0.3 * passthrough, (losses[-1], passthrough)


# --- chunked inference -----------------------------------------------------------------------

def test_chunk_starts_cover_the_input():
    assert chunk_starts(100, 200, 150) == [0]
    starts = chunk_starts(1000, 300, 250)
    assert starts[0] == 0 and starts[-1] == 700 and all(b - a <= 250 for a, b in zip(starts,
                                                                                     starts[1:]))


def test_chunked_gain_model_is_exact():
    x = torch.randn(2, 10007)
    y = enhance_long(lambda w: 2 * w, x, chunk_s=0.2, overlap_s=0.05)
    torch.testing.assert_close(y, 2 * x)


def test_chunked_seams_are_continuous_for_a_context_model():
    """A smoothing filter sees different context at chunk edges; the cross-fade hides it."""
    kernel = torch.hann_window(41)[None, None] / torch.hann_window(41).sum()

    def smooth(w):
        return torch.nn.functional.conv1d(w[:, None], kernel, padding=20)[:, 0]

    x = speech_like(16000 * 3, noise=0.02)[0]
    whole, chunked = smooth(x[None])[0], enhance_long(smooth, x, chunk_s=0.5, overlap_s=0.1)
    assert chunked.shape == x.shape
    assert (chunked - whole).abs().max() < 0.02 * whole.abs().max()
    assert chunked.diff().abs().max() < 1.1 * whole.diff().abs().max()


def test_chunked_identity_like_phasen_equals_whole():
    net = model(phase_stream=False).eval()
    with torch.no_grad():                  # mask = sigmoid(30) ~ 1: the model is an STFT round trip
        net.amp_head.fc[-2].weight.zero_()
        net.amp_head.fc[-2].bias.fill_(30.0)
        x = speech_like(16000 * 2 + 77, noise=0.05)[0]
        whole = net(x[None])["wav"][0]
    chunked = enhance_long(net, x, chunk_s=0.3, overlap_s=0.05)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-5)
    torch.testing.assert_close(whole, x, rtol=0, atol=1e-5)

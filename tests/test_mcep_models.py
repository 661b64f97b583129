"""Mel-cepstrum models: the frame VAE (likelihood and KL against torch.distributions, free bits,
dead units, training on a tiny factor set, speaker-code conversion), the LSTM sequence
autoencoder (padding, reverse decoding, teacher forcing, delta targets, no collapse to the mean)
and the PCA baseline (exact at full rank, optimal error below it)."""
import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from speechkit.errors import SpeechkitError
from speechkit.nn.mcep_vae import ACTIVE_KL_NATS, McepVAE, stack_context, vae_loss
from speechkit.nn.pca import PCA
from speechkit.nn.registry import MODELS
from speechkit.nn.seq_ae import LSTMSeqAE, reverse_padded, seq_ae_loss

F64 = torch.float64


def factor_frames(n=512, factors=3, dims=39, seed=0, offset=None):
    """Normalised frames that a few latent factors explain (a nonlinear map plus 5% noise)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, factors, generator=g)
    mix = torch.randn(factors, 32, generator=g)
    out = torch.randn(32, dims, generator=g) / 6
    x = torch.tanh(z @ mix) @ out + 0.05 * torch.randn(n, dims, generator=g)
    return (x - x.mean(0)) / x.std(0)


def train(model, x, steps, lr, speaker=None, batch=128):
    opt = torch.optim.Adam(model.parameters(), lr)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch,), generator=g)
        spk = None if speaker is None else speaker[idx]
        loss = vae_loss(model(x[idx], spk), x[idx]).loss.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


# ---------------------------------------------------------------- VAE


def test_registered_with_the_documented_shape():
    vae = MODELS.get("mcep_vae")()
    sizes = [(l.in_features, l.out_features) for l in vae.encoder.layers]
    sizes += [(vae.to_mu.in_features, vae.to_mu.out_features)]
    sizes += [(l.in_features, l.out_features) for l in vae.decoder.layers]
    sizes += [(vae.to_mean.in_features, vae.to_mean.out_features)]
    assert sizes == [(39, 256), (256, 128), (128, 64), (64, 128), (128, 256), (256, 39)]
    assert MODELS.get("lstm_seq_ae") is LSTMSeqAE
    assert McepVAE(context=2, num_speakers=3).encoder.layers[0].in_features == 5 * 39
    assert McepVAE(num_speakers=3).decoder.layers[0].in_features == 64 + 3


def test_stack_context_hand_example():
    x = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    expected = torch.tensor([[1, 10, 1, 10, 2, 20],      # frame -1 repeats frame 0
                             [1, 10, 2, 20, 3, 30],
                             [2, 20, 3, 30, 3, 30.0]])   # frame 3 repeats frame 2
    assert torch.equal(stack_context(x, 1), expected)
    assert torch.equal(stack_context(x[None], 1), expected[None])  # batched
    assert torch.equal(McepVAE(input_dim=2, context=1).centre(expected), x)
    assert stack_context(x, 0) is x


@pytest.mark.parametrize("variance", ["unit", "shared", "frame"])
def test_loss_terms_match_torch_distributions(variance):
    torch.manual_seed(0)
    vae = McepVAE(input_dim=5, hidden=(16, 8), latent=4, variance=variance).double()
    with torch.no_grad():  # move the variances away from their initial 1
        for p in vae.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(7, 5, dtype=F64)
    out = vae(x)
    res = vae_loss(out, x, kl_weight=0.3)
    std = torch.ones_like(out.mean) if out.var is None else out.var.expand_as(out.mean).sqrt()
    nll = -Normal(out.mean, std).log_prob(x).sum(-1)
    kl = kl_divergence(Normal(out.mu, torch.exp(0.5 * out.logvar)), Normal(0.0, 1.0))
    assert torch.allclose(res.nll, nll)
    assert torch.allclose(res.kl, kl.sum(-1))
    assert torch.allclose(res.kl_per_dim, kl.mean(0))
    assert torch.allclose(res.loss, nll + 0.3 * kl.sum(-1))
    assert res.active_latents == int((kl.mean(0) > ACTIVE_KL_NATS).sum())
    if variance != "unit":
        assert out.var.min() >= vae.variance_floor


def test_free_bits_charge_a_constant_below_the_threshold():
    torch.manual_seed(0)
    vae = McepVAE(input_dim=5, hidden=(16, 8), latent=4).double()
    x = torch.randn(32, 5, dtype=F64)
    out = vae(x)
    plain = vae_loss(out, x)
    free = 1.5 * float(plain.kl_per_dim.median())  # some dimensions below it, some above
    res = vae_loss(out, x, free_bits=free)
    below = plain.kl_per_dim < free
    assert 0 < int(below.sum()) < 4
    expected = plain.nll.mean() + torch.clamp(plain.kl_per_dim, min=free).sum()
    assert torch.allclose(res.loss.mean(), expected)
    # No gradient reaches the posterior of a dimension charged the constant.
    grad_mu, = torch.autograd.grad(res.loss.mean(), out.mu, retain_graph=True)
    plain_grad, = torch.autograd.grad(plain.loss.mean(), out.mu)
    kl_grad = out.mu / len(x)  # d mean KL / d mu
    assert torch.allclose(grad_mu[:, below], plain_grad[:, below] - kl_grad[:, below])
    assert torch.allclose(grad_mu[:, ~below], plain_grad[:, ~below])


def test_dead_unit_share():
    torch.manual_seed(0)
    vae = McepVAE()
    x = torch.randn(256, 39)
    assert vae_loss(vae(x), x).dead_share == 0.0  # He init: every unit fires for some frame
    with torch.no_grad():
        vae.decoder.layers[-1].bias[:64] = -1e4  # 64 units that no input can switch on
    total = 2 * (256 + 128)
    assert vae_loss(vae(x), x).dead_share == pytest.approx(64 / total)


def test_vae_learns_a_tiny_factor_set_and_counts_its_latents():
    """Three linear factors: the VAE reconstructs far better than the mean frame, three latents
    carry the information and the unneeded ones are (nearly) switched off."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(512, 3, generator=g)
    x = z @ torch.randn(3, 39, generator=g) + 0.1 * torch.randn(512, 39, generator=g)
    x = (x - x.mean(0)) / x.std(0)
    vae = train(McepVAE(hidden=(64, 32), latent=16), x, steps=400, lr=3e-3)
    with torch.no_grad():
        mse = float(((vae.reconstruct(x) - x) ** 2).mean())
        res = vae_loss(vae(x), x)
    mean_frame_mse = float(((x - x.mean(0)) ** 2).mean())  # ~1 on normalised data
    assert mse < 0.1 * mean_frame_mse
    kl = res.kl_per_dim.sort(descending=True).values
    assert kl[2] > 0.5 and kl[3] < 0.25 * kl[2]
    assert 3 <= res.active_latents <= 8  # of 16
    assert res.dead_share < 0.3


def test_speaker_code_converts():
    """Two speakers = the same frames shifted by a speaker-specific offset; decoding speaker 0's
    frames with speaker 1's code should land near speaker 1's rendering of them."""
    torch.manual_seed(0)
    base = factor_frames(n=512, factors=2, seed=3)
    shift = torch.randn(39, generator=torch.Generator().manual_seed(4))
    x = torch.cat([base - 0.5 * shift, base + 0.5 * shift])
    speaker = torch.cat([torch.zeros(512, dtype=torch.long), torch.ones(512, dtype=torch.long)])
    vae = train(McepVAE(hidden=(64, 32), latent=8, num_speakers=2), x, steps=400, lr=3e-3,
                speaker=speaker)
    src, tgt = x[:512], x[512:]
    converted = vae.convert(src, 1)
    assert float(((converted - tgt) ** 2).mean()) < 0.2 * float(((src - tgt) ** 2).mean())
    assert torch.allclose(vae.convert(src, torch.ones(512, dtype=torch.long)), converted)


def test_vae_bad_input_is_one_clear_error():
    vae = McepVAE(context=1)
    with pytest.raises(SpeechkitError, match="expects 117-dim frames"):
        vae(torch.zeros(4, 40))
    with pytest.raises(SpeechkitError, match="no speaker code"):
        vae(torch.zeros(4, 117), speaker=0)
    conditioned = McepVAE(num_speakers=2)
    with pytest.raises(SpeechkitError, match="pass speaker ids"):
        conditioned(torch.zeros(4, 39))
    with pytest.raises(SpeechkitError, match="out of range 0..1"):
        conditioned(torch.zeros(4, 39), speaker=torch.tensor([0, 1, 2, 1]))
    with pytest.raises(SpeechkitError, match="model.variance"):
        McepVAE(variance="learned")


# ---------------------------------------------------------------- LSTM sequence autoencoder


def padded_batch(seed=0, dims=3, lengths=(7, 4, 1), fill=0.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.full((len(lengths), max(lengths), dims), fill, dtype=F64)
    for b, n in enumerate(lengths):
        x[b, :n] = torch.randn(n, dims, generator=g, dtype=F64)
    return x, torch.tensor(lengths)


def test_reverse_padded_and_delta_targets_hand_example():
    x = torch.tensor([[[1.0], [2.0], [4.0]], [[5.0], [7.0], [99.0]]])
    rev = reverse_padded(x, torch.tensor([3, 2]))
    assert rev[:, :, 0].tolist() == [[4, 2, 1], [7, 5, 5]]  # last step of #2 is filler, not 99
    model = LSTMSeqAE(input_dim=1, hidden=4, target="delta")
    out = model(x, torch.tensor([3, 2]))
    assert out.target[:, :, 0].tolist() == [[4, -2, -1], [7, -2, 0]]
    assert out.mask.tolist() == [[True, True, True], [True, True, False]]
    # Delta outputs add up, in decoding order, to the frames; mapped back to time order.
    frames = reverse_padded(out.pred.cumsum(1), torch.tensor([3, 2]))
    assert torch.allclose(out.recon[0], frames[0])
    assert torch.allclose(out.recon[1, :2], frames[1, :2]) and out.recon[1, 2].eq(0).all()


@pytest.mark.parametrize("target, bidirectional", [("frames", False), ("delta", True)])
def test_padding_garbage_changes_neither_loss_nor_gradients(target, bidirectional):
    torch.manual_seed(0)
    model = LSTMSeqAE(input_dim=3, hidden=8, layers=2, bidirectional=bidirectional,
                      target=target).double()
    weights = torch.arange(1, 8, dtype=F64).sqrt()

    def loss_and_grads(fill):
        x, lengths = padded_batch(fill=fill)
        loss = seq_ae_loss(model(x, lengths), step_weights=weights).loss
        return loss, torch.autograd.grad(loss, list(model.parameters()))

    clean_loss, clean_grads = loss_and_grads(0.0)
    for fill in (1e6, float("nan")):
        loss, grads = loss_and_grads(fill)
        assert torch.equal(loss, clean_loss)
        assert all(torch.equal(a, b) for a, b in zip(grads, clean_grads))
    assert clean_loss > 0 and any(g.abs().sum() > 0 for g in clean_grads)


def test_batching_does_not_change_an_utterance():
    torch.manual_seed(0)
    model = LSTMSeqAE(input_dim=3, hidden=8, bidirectional=True).double().eval()
    x, lengths = padded_batch(lengths=(7, 4, 1), fill=float("nan"))
    batched = model(x, lengths).recon
    for b, n in enumerate(lengths.tolist()):
        alone = model(x[b:b + 1, :n], torch.tensor([n])).recon[0]
        assert torch.allclose(batched[b, :n], alone)


def test_decoding_runs_backwards_from_the_encoder_state():
    """A hand-unrolled decoder: step 0 from the encoder's final state alone, then each step fed
    the previous frame, its own (free running) or the true one (teacher forcing = 1)."""
    torch.manual_seed(0)
    model = LSTMSeqAE(input_dim=3, hidden=5).double()
    x, lengths = padded_batch(lengths=(6, 6))
    for forcing in (0.0, 1.0):
        out = model.train()(x, lengths, teacher_forcing=forcing)
        h, c = model.encode(x, lengths)
        prev, expected = None, []
        for s in range(6):
            if s:
                fed = x[:, 6 - s] if forcing else prev
                h, c = model.decoder(fed, (h, c))
            prev = model.output(h)
            expected.append(prev)
        assert torch.allclose(out.pred, torch.stack(expected, 1))
        assert torch.allclose(out.recon, torch.stack(expected[::-1], 1))
    # The final state: only the real steps matter, so the encoder state of a padded sequence
    # equals that of the sequence alone.
    h, _ = model.encode(*padded_batch(lengths=(5, 2)))
    x2, _ = padded_batch(lengths=(5, 2))
    alone, _ = model.encode(x2[1:, :2], torch.tensor([2]))
    assert torch.allclose(h[1:], alone)


def sinusoids(n=16, steps=16, dims=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(steps, dtype=torch.float32)[None, :, None]
    freq = 0.15 + 0.35 * torch.rand(n, 1, dims, generator=g)
    phase = 2 * math.pi * torch.rand(n, 1, dims, generator=g)
    amp = 0.5 + torch.rand(n, 1, dims, generator=g)
    return amp * torch.sin(freq * t + phase)


def test_seq_ae_does_not_collapse_to_the_mean():
    torch.manual_seed(0)
    x = sinusoids()
    lengths = torch.full((len(x),), x.shape[1])
    model = LSTMSeqAE(input_dim=4, hidden=32)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(60):
        loss = seq_ae_loss(model(x, lengths)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        recon = model.eval()(x, lengths).recon
    mean_mse = float(((x - x.mean(1, keepdim=True)) ** 2).mean())  # the utterance mean
    assert float(((recon - x) ** 2).mean()) < 0.3 * mean_mse
    ratio = recon.var(1) / x.var(1)
    assert float(ratio.mean()) > 0.6


def test_seq_ae_bad_input_is_one_clear_error():
    model = LSTMSeqAE(input_dim=39, hidden=4)
    with pytest.raises(SpeechkitError, match=r"expects \(batch, frames, 39\)"):
        model(torch.zeros(2, 5, 40), torch.tensor([5, 5]))
    with pytest.raises(SpeechkitError, match="lengths must be 2 values in 1..5"):
        model(torch.zeros(2, 5, 39), torch.tensor([6, 5]))
    with pytest.raises(SpeechkitError, match="step weights"):
        seq_ae_loss(model(torch.zeros(2, 5, 39), torch.tensor([5, 3])), torch.ones(4))
    with pytest.raises(SpeechkitError, match="model.target"):
        LSTMSeqAE(target="diff")


# ---------------------------------------------------------------- PCA


def test_pca_full_rank_reconstructs_exactly():
    x = factor_frames(n=200, factors=5, dims=12).double().numpy() * 3 + 7
    pca = PCA(12).fit(x)
    assert np.allclose(pca.reconstruct(x), x, atol=1e-10)
    assert np.allclose(pca.components @ pca.components.T, np.eye(12), atol=1e-12)


def test_pca_error_is_the_discarded_variance():
    x = factor_frames(n=300, factors=5, dims=12).double().numpy()
    eig = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False, bias=True)))[::-1]
    pca = PCA(4).fit(x)
    codes = pca.encode(x)
    assert codes.shape == (300, 4)
    err = ((pca.decode(codes) - x) ** 2).sum(1).mean()
    assert err == pytest.approx(eig[4:].sum(), rel=1e-9)
    assert np.allclose(pca.explained_variance, eig[:4])


def test_pca_torch_in_torch_out_and_state_round_trip(tmp_path):
    x = factor_frames(n=100, dims=6)
    pca = PCA(3).fit(x)
    out = pca.reconstruct(x)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    torch.save(pca.state_dict(), tmp_path / "pca.pt")
    loaded = PCA(3).load_state_dict(torch.load(tmp_path / "pca.pt", weights_only=True))
    assert torch.equal(loaded.reconstruct(x), out)
    with pytest.raises(SpeechkitError, match="exceeds min"):
        PCA(7).fit(x)
    with pytest.raises(SpeechkitError, match="expected last dimension 6"):
        pca.encode(torch.zeros(2, 5))

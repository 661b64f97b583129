"""The pairwise KL/hinge loss against a loop over pairs and hand-worked cases, and the siamese
base networks: shapes, layers, and overfitting a tiny 4-speaker set with the KL loss."""
import math

import numpy as np
import pytest
import torch

from speechkit.errors import SpeechkitError
from speechkit.metrics.verification import cosine_scores, eer, symmetric_kl_scores
from speechkit.nn.pairwise_kl import PairwiseKLLoss, kl_matrix, pairwise_kl_loss
from speechkit.nn.registry import MODELS
from speechkit.nn.speaker_nets import SpeakerBLSTM, SpeakerCNN


def pair_loss(p, q, same, margin, hinge, flawed, eps=1e-16, clip=1e-7, beta=1.0):
    """One pair, written out as in the original's loss_with_kl_div (float64 numpy)."""
    def kl(a, b):
        return float(np.sum(a * np.log(a / b)))

    def h(x):
        return max(0.0, x) if hinge == "relu" else math.log1p(math.exp(beta * x)) / beta

    if flawed:
        p, q = np.clip(p, clip, 1.0), np.clip(q, clip, 1.0)
        return kl(p, q) if same else h(margin - kl(p, q))
    p, q = p + eps, q + eps
    if same:
        return kl(p, q) + kl(q, p)
    return h(margin - kl(p, q)) + h(margin - kl(q, p))


def loop_loss(probs, labels, **kw):
    probs, labels = probs.double().numpy(), labels.numpy()
    total, n = 0.0, 0
    for i in range(len(probs)):
        for j in range(i + 1, len(probs)):
            total += pair_loss(probs[i], probs[j], labels[i] == labels[j], **kw)
            n += 1
    return total, n


def random_batch(batch=12, classes=6, seed=0, zeros=False):
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(3 * torch.randn(batch, classes, generator=g, dtype=torch.float64), 1)
    if zeros:  # exact zeros, as a saturated float32 softmax gives
        probs[probs < 0.05] = 0.0
        probs = probs / probs.sum(1, keepdim=True)
    labels = torch.randint(0, 4, (batch,), generator=g)
    return probs, labels


@pytest.mark.parametrize("hinge,formulation,margin", [
    ("relu", "symmetric", 2.0), ("relu", "symmetric", 3.0), ("softplus", "symmetric", 2.0),
    ("relu", "flawed", 2.0), ("softplus", "flawed", 3.0)])
@pytest.mark.parametrize("zeros", [False, True])
def test_loss_equals_a_loop_over_pairs(hinge, formulation, margin, zeros):
    probs, labels = random_batch(zeros=zeros, seed=int(zeros))
    total, n_pairs, same = pairwise_kl_loss(probs, labels, margin=margin, hinge=hinge,
                                            formulation=formulation)
    ref_total, ref_pairs = loop_loss(probs, labels, margin=margin, hinge=hinge,
                                     flawed=formulation == "flawed")
    assert n_pairs == ref_pairs == 66
    assert total.item() == pytest.approx(ref_total, rel=1e-9)
    lab = labels.numpy()
    assert same == pytest.approx(np.mean([lab[i] == lab[j] for i in range(12)
                                          for j in range(i + 1, 12)]))


def test_mean_over_pairs_is_the_originals_ordered_pair_mean():
    # The original sums L over all ordered pairs (i, j), diagonal included, / (B (B - 1)).
    probs, labels = random_batch(batch=7)
    total, n_pairs, _ = pairwise_kl_loss(probs, labels, margin=2.0)
    p, lab = probs.numpy(), labels.numpy()
    ordered = sum(pair_loss(p[i], p[j], lab[i] == lab[j], 2.0, "relu", False)
                  for i in range(7) for j in range(7))
    assert (total / n_pairs).item() == pytest.approx(ordered / (7 * 6), rel=1e-9)


def test_kl_matrix_against_scipy():
    from scipy.special import rel_entr
    probs, _ = random_batch(batch=5)
    d = kl_matrix(probs).numpy()
    p = probs.numpy() + 1e-16
    ref = np.array([[rel_entr(p[i], p[j]).sum() for j in range(5)] for i in range(5)])
    np.testing.assert_allclose(d, ref, atol=1e-12)


def hand_kl():
    p, q = [0.5, 0.5], [0.9, 0.1]
    pq = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)  # 0.5108
    qp = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)  # 0.3681
    return torch.tensor([p, q], dtype=torch.float64), pq, qp


def test_margin_hand_worked():
    probs, pq, qp = hand_kl()
    same, diff = torch.tensor([0, 0]), torch.tensor([0, 1])
    # same speaker: both KLs, whatever the margin
    assert pairwise_kl_loss(probs, same, margin=2.0)[0].item() == pytest.approx(pq + qp)
    # different speakers, margin above both KLs: both hinges active
    assert pairwise_kl_loss(probs, diff, margin=2.0)[0].item() == pytest.approx(4 - pq - qp)
    # margin 0.4 lies between KL(Q||P) = 0.368 and KL(P||Q) = 0.511: one hinge active
    assert pairwise_kl_loss(probs, diff, margin=0.4)[0].item() == pytest.approx(0.4 - qp)
    # margin below both: the pair is far enough apart, no loss and no gradient
    leaf = probs.clone().requires_grad_()
    loss = pairwise_kl_loss(leaf, diff, margin=0.3)[0]
    loss.backward()
    assert loss.item() == 0.0 and torch.all(leaf.grad == 0)
    # softplus: log(1 + e^(m - KL)) per direction, positive even beyond the margin
    soft = pairwise_kl_loss(probs, diff, margin=0.3, hinge="softplus")[0].item()
    assert soft == pytest.approx(math.log1p(math.exp(0.3 - pq)) + math.log1p(math.exp(0.3 - qp)))
    # flawed: one side only, KL(P||Q) with P the earlier row of the batch
    assert pairwise_kl_loss(probs, same, formulation="flawed")[0].item() == pytest.approx(pq)
    assert pairwise_kl_loss(probs.flip(0), same, formulation="flawed")[0].item() == \
        pytest.approx(qp)


def test_gradients_finite_with_exact_zeros_and_clipping_kills_them():
    probs = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.7, 0.3, 0.0], [1.0, 0.0, 0.0]],
                         requires_grad=True)
    labels = torch.tensor([0, 1, 0, 0])
    loss = pairwise_kl_loss(probs, labels, margin=3.0)[0]
    loss.backward()
    assert torch.isfinite(loss) and torch.all(torch.isfinite(probs.grad))
    # Same-speaker rows 0 and 2 differ where row 0 is exactly 0: eps keeps that gradient.
    assert probs.grad[0, 1] != 0
    probs.grad = None
    pairwise_kl_loss(probs, labels, margin=3.0, formulation="flawed")[0].backward()
    assert torch.all(torch.isfinite(probs.grad))
    assert torch.all(probs.grad[probs.detach() == 0] == 0)  # clipped: no gradient at all

    # Through a saturated float32 softmax (exact zeros), from logits.
    logits = torch.tensor([[200.0, 0.0, 0.0], [0.0, 200.0, 0.0], [0.0, 0.0, 200.0]],
                          requires_grad=True)
    probs = torch.softmax(logits, 1)
    assert (probs == 0).any()
    pairwise_kl_loss(probs, torch.tensor([0, 0, 1]), margin=2.0)[0].backward()
    assert torch.all(torch.isfinite(logits.grad))


def test_options_and_batch_checked():
    probs, labels = random_batch(batch=3)
    with pytest.raises(SpeechkitError, match="formulation"):
        PairwiseKLLoss(formulation="asymmetric")
    with pytest.raises(SpeechkitError, match="hinge"):
        pairwise_kl_loss(probs, labels, hinge="square")
    with pytest.raises(SpeechkitError, match="at least 2"):
        pairwise_kl_loss(probs[:1], labels[:1])
    module = PairwiseKLLoss(margin=3.0, hinge="softplus")
    assert module(probs, labels)[0].item() == pytest.approx(
        pairwise_kl_loss(probs, labels, margin=3.0, hinge="softplus")[0].item())


# --- the networks ----------------------------------------------------------------------------

def test_networks_registered_shapes_and_layers():
    assert MODELS.get("speaker_blstm") is SpeakerBLSTM and MODELS.get("speaker_cnn") is SpeakerCNN
    torch.manual_seed(0)
    blstm = SpeakerBLSTM(16, 5, hidden=8).eval()
    x = torch.randn(3, 12, 16)
    assert blstm(x).shape == (3, 5)
    sizes = {"blstm": 16, "dense1": 50, "dense2": 25, "logits": 5, "softmax": 5}
    for layer, size in sizes.items():
        assert blstm.embed(x, layer).shape == (3, size)
    torch.testing.assert_close(blstm.embed(x, "softmax").sum(1), torch.ones(3))
    torch.testing.assert_close(blstm.embed(x, "logits"), blstm(x))
    cnn = SpeakerCNN(24, 5, frames=30, channels=(4, 8), dense_units=(20, 10)).eval()
    x = torch.randn(3, 30, 24)
    assert cnn(x).shape == (3, 5) and cnn.embed(x).shape == (3, 20)
    assert torch.all(cnn.embed(x) >= 0)  # the first dense layer's ReLU output
    with pytest.raises(SpeechkitError, match="embedding layer"):
        cnn.embed(x, "blstm")
    with pytest.raises(SpeechkitError, match="model.frames"):
        cnn(torch.randn(3, 31, 24))
    with pytest.raises(SpeechkitError, match="too small"):
        SpeakerCNN(8, 5, frames=8)


@pytest.mark.parametrize("pool", ["mean", "last"])
def test_blstm_lengths_ignore_padding(pool):
    torch.manual_seed(0)
    net = SpeakerBLSTM(6, 3, hidden=5, pool=pool).eval()
    a, b = torch.randn(1, 7, 6), torch.randn(1, 4, 6)
    padded = torch.cat([a, torch.cat([b, 100 * torch.ones(1, 3, 6)], 1)])
    out = net.embed(padded, "blstm", lengths=torch.tensor([7, 4]))
    torch.testing.assert_close(out, torch.cat([net.embed(a, "blstm"), net.embed(b, "blstm")]))


def speaker_set(frames, bins, sigma, per=4, seed=0):
    """4 speakers x `per` segments: a speaker's mean mel profile under unit frame noise."""
    g = torch.Generator().manual_seed(seed)
    means = sigma * torch.randn(4, 1, bins, generator=g)
    x = means.repeat_interleave(per, 0) + torch.randn(4 * per, frames, bins, generator=g)
    return x, torch.arange(4).repeat_interleave(per)


def all_pairs_eer(emb, labels, scorer):
    i, j = np.triu_indices(len(labels), 1)
    e, lab = emb.detach().double().numpy(), labels.numpy()
    return eer(scorer(e[i], e[j]), (lab[i] == lab[j]).astype(int))[0]


def overfit(net, x, y, margin, lr, steps):
    net.eval()
    with torch.no_grad():
        before = {layer: all_pairs_eer(net.embed(x, layer), y, scorer)
                  for layer, scorer in [(net.default_layer, cosine_scores),
                                        ("softmax", symmetric_kl_scores)]}
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        total, pairs, _ = pairwise_kl_loss(torch.softmax(net(x), -1), y, margin=margin)
        opt.zero_grad()
        (total / pairs).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        total, pairs, _ = pairwise_kl_loss(torch.softmax(net(x), -1), y, margin=margin)
        after = {layer: all_pairs_eer(net.embed(x, layer), y, scorer)
                 for layer, scorer in [(net.default_layer, cosine_scores),
                                       ("softmax", symmetric_kl_scores)]}
    return before, after, (total / pairs).item()


# More output units than speakers in the batch, as in training proper (a batch holds P of the
# n training speakers): with n = 4 outputs for 4 speakers in every batch, two speakers that
# start on the same output unit often stay merged, since the KL hinge has no gradient at P = Q.
@pytest.mark.parametrize("name,build,data,margin,lr", [
    ("blstm", lambda: SpeakerBLSTM(16, 24, hidden=32, dropout=0.0, dense_dropout=0.0),
     dict(frames=12, bins=16, sigma=0.5), 3.0, 1e-3),
    ("cnn", lambda: SpeakerCNN(20, 12, frames=20, channels=(4, 8), dropout=0.0),
     dict(frames=20, bins=20, sigma=0.3), 2.0, 1e-3)])
def test_networks_overfit_four_speakers_with_the_kl_loss(name, build, data, margin, lr):
    torch.manual_seed(0)
    x, y = speaker_set(**data)
    before, after, loss = overfit(build(), x, y, margin, lr, steps=100)
    assert loss < 0.05
    assert before["softmax"] > 0.05 and after["softmax"] == 0.0
    layer = "blstm" if name == "blstm" else "dense1"
    assert after[layer] < before[layer] or after[layer] == 0.0

"""The siamese KL/hinge loss over all pairs of a batch (Lukic et al., MLSP 2016/2017).

For a pair of softmax outputs P, Q with same-speaker indicator Is and margin m:

    L(P, Q) = Is * (KL(P||Q) + KL(Q||P))
            + (1 - Is) * (max(0, m - KL(P||Q)) + max(0, m - KL(Q||P)))

summed over the B(B-1)/2 unordered pairs i < j of a batch. The caller divides by the number of
pairs; that equals the original's sum over ordered pairs divided by B(B-1) (stdm/ZHAW_deep_voice),
since L is symmetric. eps (1e-16, as in the original) is added to every probability and never
clipped, so every probability keeps its gradient. All KL divergences come from one B x B matrix:
KL(P_i||P_j) = sum_k p_ik log p_ik - (p log p^T)[i, j], no loop over pairs.

Formulations:
- "symmetric" (default): the formula above, the original's.
- "flawed": the re-implementation the issue starts from, kept as an ablation: probabilities
  clipped to [clip_eps, 1] (Keras' K.clip with K.epsilon() = 1e-7: no gradient below clip_eps)
  and one KL per pair, KL(P_i||P_j) for i < j, so the order of the batch decides which side is
  the reference.

Hinges: "relu" (max(0, .), the original) or "softplus" (log(1 + exp(beta * .)) / beta, a smooth
hinge that still pushes different-speaker pairs a little beyond the margin).
"""
import torch
import torch.nn.functional as F
from torch import nn

from speechkit.errors import SpeechkitError

EPS = 1e-16
KERAS_EPS = 1e-7
FORMULATIONS = ("symmetric", "flawed")
HINGES = ("relu", "softplus")


def kl_matrix(probs, eps=EPS):
    """D[i, j] = KL(P_i || P_j) for the rows of `probs` (B, C), with eps added to every
    probability (not renormalised, as in the original)."""
    p = probs + eps
    logp = torch.log(p)
    neg_entropy = (p * logp).sum(dim=1, keepdim=True)  # (B, 1): sum_k p_ik log p_ik
    return neg_entropy - p @ logp.T


def _hinge(x, kind, beta):
    return F.relu(x) if kind == "relu" else F.softplus(x, beta=beta)


def _check(probs, labels, formulation, hinge):
    if formulation not in FORMULATIONS:
        raise SpeechkitError(f"pairwise KL loss: unknown formulation '{formulation}'; "
                             f"choose one of {', '.join(FORMULATIONS)}")
    if hinge not in HINGES:
        raise SpeechkitError(f"pairwise KL loss: unknown hinge '{hinge}'; "
                             f"choose one of {', '.join(HINGES)}")
    if probs.dim() != 2 or labels.dim() != 1 or len(labels) != len(probs):
        raise SpeechkitError(f"pairwise KL loss wants probabilities (B, C) and labels (B,), got "
                             f"{tuple(probs.shape)} and {tuple(labels.shape)}")
    if len(probs) < 2:
        raise SpeechkitError(f"pairwise KL loss needs at least 2 segments per batch, got "
                             f"{len(probs)}: raise the batch size or drop the last short batch")


def pairwise_kl_loss(probs, labels, margin=2.0, hinge="relu", formulation="symmetric",
                     eps=EPS, clip_eps=KERAS_EPS, softplus_beta=1.0):
    """Sum of the pair losses over all pairs i < j of a batch.

    probs: (B, C) softmax outputs; labels: (B,) speaker indices.
    Returns (loss sum: a scalar tensor, number of pairs: int, share of same-speaker pairs: float);
    divide the sum by the number of pairs (summed over a whole epoch if you like).
    """
    _check(probs, labels, formulation, hinge)
    batch = len(probs)
    i, j = torch.triu_indices(batch, batch, offset=1, device=probs.device)
    same = labels[i] == labels[j]
    if formulation == "symmetric":
        kl = kl_matrix(probs, eps)
        forward, backward = kl[i, j], kl[j, i]
        pulled = forward + backward
        pushed = _hinge(margin - forward, hinge, softplus_beta) + \
            _hinge(margin - backward, hinge, softplus_beta)
    else:
        kl = kl_matrix(probs.clamp(clip_eps, 1.0), eps=0.0)[i, j]
        pulled, pushed = kl, _hinge(margin - kl, hinge, softplus_beta)
    total = torch.where(same, pulled, pushed).sum()
    n_pairs = batch * (batch - 1) // 2
    return total, n_pairs, float(same.float().mean())


class PairwiseKLLoss(nn.Module):
    """pairwise_kl_loss with its options fixed: forward(probs, labels) -> (sum, pairs, same)."""

    def __init__(self, margin=2.0, hinge="relu", formulation="symmetric", eps=EPS,
                 clip_eps=KERAS_EPS, softplus_beta=1.0):
        super().__init__()
        _check(torch.zeros(2, 1), torch.zeros(2), formulation, hinge)  # bad options fail early
        self.options = dict(margin=margin, hinge=hinge, formulation=formulation, eps=eps,
                            clip_eps=clip_eps, softplus_beta=softplus_beta)

    def forward(self, probs, labels):
        return pairwise_kl_loss(probs, labels, **self.options)

    def extra_repr(self):
        return ", ".join(f"{k}={v}" for k, v in self.options.items())

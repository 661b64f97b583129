"""Frame-level VAE on mel-cepstra, optionally speaker-conditioned for voice conversion.

Input: c1..c39 per frame (c0 dropped), normalised per dimension by the caller (training mean
and std), optionally stacked with ±k neighbouring frames (`stack_context`), so the input is
(2k+1)·39 wide; the decoder reconstructs the centre frame. Encoder 256-128 ReLU -> Gaussian
posterior over 64 latents; mirrored decoder 128-256 ReLU -> Gaussian over the frame.

Options the source lacked:
- decoder variance: "unit" (a plain MSE, which over-smooths), "shared" (one learned variance per
  dimension) or "frame" (predicted per frame); learned variances never go below
  `variance_floor`, which keeps the likelihood from blowing up on a dimension it fits exactly;
- a speaker code (one-hot of `num_speakers`) concatenated to the decoder input, as in Hsu et
  al. 2016: encode any speaker's frame, decode with the target's code to convert;
- KL weight (the caller anneals it) and free bits, both arguments of `vae_loss`.

He initialisation of the ReLU layers keeps the units alive at the start (the source's badly
scaled init killed them); `vae_loss` reports the share of dead units and the KL per latent so
that training can log both.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from speechkit.errors import SpeechkitError
from speechkit.nn.registry import MODELS

LOG_2PI = math.log(2.0 * math.pi)
ACTIVE_KL_NATS = 0.01  # a latent dimension with more KL than this (batch mean) is "active"
VARIANCES = ("unit", "shared", "frame")


def stack_context(frames, k):
    """(..., T, D) -> (..., T, (2k+1)·D): frames t-k .. t+k side by side; edge frames repeat."""
    if k < 0:
        raise SpeechkitError(f"context must be >= 0 frames, got {k}")
    if k == 0:
        return frames
    steps = frames.shape[-2]
    idx = torch.arange(steps, device=frames.device)[:, None] + torch.arange(-k, k + 1,
                                                                           device=frames.device)
    return frames[..., idx.clamp(0, steps - 1), :].flatten(-2)


def _inverse_softplus(y):
    return math.log(math.expm1(y))


@dataclass
class VAEOutput:
    mean: torch.Tensor           # (..., D) decoder mean
    var: torch.Tensor | None     # (..., D) or (D,) decoder variance; None for unit variance
    mu: torch.Tensor             # (..., latent) posterior mean
    logvar: torch.Tensor         # (..., latent) posterior log-variance
    z: torch.Tensor              # (..., latent) the sample decoded (mu in eval mode)
    alive: list                  # per ReLU layer, (units,) bool: positive for some frame


@dataclass
class VAELoss:
    loss: torch.Tensor           # (N,) per frame: nll + kl_weight * KL (free bits applied)
    nll: torch.Tensor            # (N,) Gaussian negative log-likelihood, summed over dims
    kl: torch.Tensor             # (N,) KL(q(z|x) || N(0, I)), summed over latents
    kl_per_dim: torch.Tensor     # (latent,) batch mean KL of each latent dimension
    active_latents: int          # latents with kl_per_dim > ACTIVE_KL_NATS
    dead_share: float            # share of ReLU units that are zero on every frame of the batch


class ReLUStack(nn.Module):
    """Linear+ReLU layers that note which units fired for some frame of the batch."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for layer in self.layers:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")  # He: keeps ReLUs alive
            nn.init.zeros_(layer.bias)

    def forward(self, x, alive):
        for layer in self.layers:
            x = torch.relu(layer(x))
            alive.append((x > 0).reshape(-1, x.shape[-1]).any(dim=0).detach())
        return x


@MODELS.register("mcep_vae")
class McepVAE(nn.Module):
    """VAE over (normalised, optionally context-stacked) mel-cepstral frames."""

    def __init__(self, input_dim=39, hidden=(256, 128), latent=64, context=0, num_speakers=0,
                 variance="unit", variance_floor=0.01):
        super().__init__()
        if variance not in VARIANCES:
            raise SpeechkitError(f"model.variance '{variance}': use one of {', '.join(VARIANCES)}")
        if variance != "unit" and not 0 < variance_floor < 1:
            raise SpeechkitError(f"model.variance_floor must be in (0, 1), got {variance_floor}")
        if context < 0 or num_speakers < 0:
            raise SpeechkitError("model.context and model.num_speakers must be >= 0")
        self.input_dim, self.context, self.latent = input_dim, context, latent
        self.num_speakers, self.variance = num_speakers, variance
        self.variance_floor = variance_floor
        hidden = list(hidden)
        self.encoder = ReLUStack([(2 * context + 1) * input_dim] + hidden)
        self.to_mu = nn.Linear(hidden[-1], latent)
        self.to_logvar = nn.Linear(hidden[-1], latent)
        self.decoder = ReLUStack([latent + num_speakers] + hidden[::-1])
        self.to_mean = nn.Linear(hidden[0], input_dim)
        # The posterior starts near the prior (mu small, unit variance), so that latents switch
        # on as the data needs them rather than all carrying noise at first; learned decoder
        # variances start at 1.
        nn.init.xavier_uniform_(self.to_mu.weight, gain=0.1)
        nn.init.xavier_uniform_(self.to_mean.weight)
        for head in (self.to_mu, self.to_mean):
            nn.init.zeros_(head.bias)
        nn.init.zeros_(self.to_logvar.weight)
        nn.init.zeros_(self.to_logvar.bias)
        start = _inverse_softplus(1.0 - variance_floor) if variance != "unit" else 0.0
        if variance == "shared":
            self.raw_var = nn.Parameter(torch.full((input_dim,), start))
        elif variance == "frame":
            self.to_var = nn.Linear(hidden[0], input_dim)
            nn.init.zeros_(self.to_var.weight)
            nn.init.constant_(self.to_var.bias, start)

    @property
    def frame_dim(self):
        """Width of the input: (2·context+1)·input_dim."""
        return (2 * self.context + 1) * self.input_dim

    def centre(self, x):
        """The centre frames (..., input_dim) of context-stacked input: the targets."""
        return x[..., self.context * self.input_dim:(self.context + 1) * self.input_dim]

    def encode(self, x, alive=None):
        """(..., frame_dim) -> posterior (mu, logvar), each (..., latent)."""
        if x.shape[-1] != self.frame_dim:
            raise SpeechkitError(
                f"mcep_vae expects {self.frame_dim}-dim frames ((2·{self.context}+1)·"
                f"{self.input_dim}, c0 dropped), got {x.shape[-1]}; check the mcep order and "
                f"model.context")
        h = self.encoder(x, [] if alive is None else alive)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z, speaker=None, alive=None):
        """(..., latent) [+ speaker ids] -> decoder (mean (..., input_dim), var or None)."""
        h = self.decoder(self._with_speaker(z, speaker), [] if alive is None else alive)
        floor = self.variance_floor
        if self.variance == "shared":
            return self.to_mean(h), floor + F.softplus(self.raw_var)
        if self.variance == "frame":
            return self.to_mean(h), floor + F.softplus(self.to_var(h))
        return self.to_mean(h), None

    def _with_speaker(self, z, speaker):
        if self.num_speakers == 0:
            if speaker is not None:
                raise SpeechkitError("this mcep_vae has no speaker code (model.num_speakers "
                                     "is 0): train a conditioned model to convert voices")
            return z
        if speaker is None:
            raise SpeechkitError(f"this mcep_vae is conditioned on {self.num_speakers} speakers: "
                                 f"pass speaker ids")
        speaker = torch.as_tensor(speaker, device=z.device)
        if speaker.numel() and (speaker.min() < 0 or speaker.max() >= self.num_speakers):
            raise SpeechkitError(f"speaker id out of range 0..{self.num_speakers - 1}: "
                                 f"{speaker.min().item()}..{speaker.max().item()}")
        code = F.one_hot(speaker.long(), self.num_speakers).to(z.dtype)
        return torch.cat([z, code.expand(*z.shape[:-1], self.num_speakers)], dim=-1)

    def forward(self, x, speaker=None):
        """x (..., frame_dim), speaker ids (...) or one id -> VAEOutput.

        Training mode decodes a reparameterised sample, eval mode the posterior mean.
        """
        alive = []
        mu, logvar = self.encode(x, alive)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        mean, var = self.decode(z, speaker, alive)
        return VAEOutput(mean, var, mu, logvar, z, alive)

    @torch.no_grad()
    def reconstruct(self, x, speaker=None):
        """Decoder mean from the posterior mean: (..., frame_dim) -> (..., input_dim)."""
        return self.decode(self.encode(x)[0], speaker)[0]

    def convert(self, x, target_speaker):
        """Voice conversion: encode any speaker's frames, decode with the target's code."""
        return self.reconstruct(x, target_speaker)


def gaussian_nll(target, mean, var=None):
    """-log N(target; mean, diag var) summed over the last dimension; var None means 1."""
    if var is None:
        return 0.5 * ((target - mean) ** 2 + LOG_2PI).sum(-1)
    return 0.5 * ((target - mean) ** 2 / var + torch.log(var) + LOG_2PI).sum(-1)


def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, 1)) per element."""
    return 0.5 * (mu * mu + torch.exp(logvar) - 1.0 - logvar)


def vae_loss(out, target, kl_weight=1.0, free_bits=0.0):
    """Per-frame loss and statistics of a VAEOutput against target frames (..., input_dim).

    Free bits (Kingma et al. 2016): a latent dimension whose batch-mean KL is below `free_bits`
    nats is charged `free_bits` instead, as a constant, so the encoder is not pushed to shut it
    off; the batch mean of `loss` is then nll + kl_weight·Σ_d max(free_bits, KL_d).
    """
    if target.shape != out.mean.shape:
        raise SpeechkitError(f"VAE target shape {tuple(target.shape)} does not match the "
                             f"reconstruction {tuple(out.mean.shape)}")
    nll = gaussian_nll(target, out.mean, out.var).reshape(-1)
    kl_elem = gaussian_kl(out.mu, out.logvar).reshape(-1, out.mu.shape[-1])
    kl_per_dim = kl_elem.mean(dim=0)
    charged = kl_elem
    if free_bits > 0:
        floor = torch.full_like(kl_elem, free_bits)
        charged = torch.where((kl_per_dim < free_bits).expand_as(kl_elem), floor, kl_elem)
    units = sum(a.numel() for a in out.alive)
    dead = sum(int((~a).sum()) for a in out.alive)
    return VAELoss(loss=nll + kl_weight * charged.sum(-1), nll=nll, kl=kl_elem.sum(-1),
                   kl_per_dim=kl_per_dim.detach(),
                   active_latents=int((kl_per_dim > ACTIVE_KL_NATS).sum()),
                   dead_share=dead / units if units else 0.0)

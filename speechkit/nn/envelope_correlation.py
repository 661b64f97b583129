"""STOI's intermediate intelligibility measure, differentiable, on a model's own STFT.

STOI (Taal et al. 2011) correlates the clean and processed short-time temporal envelopes of 15
one-third-octave bands from 150 Hz over 384 ms segments and averages the correlations. Here the
same on the complex spectra a network already has (N, T, F), so that a training loss can carry
an intelligibility term: bands built on the model's FFT grid instead of STOI's 10 kHz one, one
segment per frame, segments whose clean energy is more than 40 dB under the utterance's loudest
dropped (STOI drops silent frames), and no clipping of the processed envelope (Jensen & Taal's
ESTOI drops it too; it makes the measure flat where the output is far too loud, which gives a
training signal nothing). The scored metric stays pystoi's (speechkit.metrics.enhance).
"""
import torch

BANDS, LOWEST_CENTRE, SEGMENT_SECONDS, DYNAMIC_RANGE_DB = 15, 150.0, 0.384, 40.0


def third_octave_bands(n_fft, sample_rate, bands=BANDS, lowest=LOWEST_CENTRE):
    """(bands, n_fft // 2 + 1) 0/1 matrix of one-third-octave bands as pystoi's thirdoct: band b
    (centre lowest * 2^(b/3)) takes the bins from the one nearest its lower edge up to, not
    including, the one nearest its upper edge (edges at the centre times 2^(-1/6), 2^(1/6));
    bands whose upper edge is past Nyquist, or with no bin (a coarse FFT), are left out."""
    step = sample_rate / n_fft
    b = torch.arange(bands, dtype=torch.float64)
    low = lowest * torch.pow(2.0, (2 * b - 1) / 6)
    high = lowest * torch.pow(2.0, (2 * b + 1) / 6)
    keep = high <= sample_rate / 2
    first, stop = (low[keep] / step).round(), (high[keep] / step).round()
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)
    matrix = (k[None, :] >= first[:, None]) & (k[None, :] < stop[:, None])
    return matrix[matrix.any(1)].float()


def envelope_correlation(est_spec, ref_spec, bands, segment, frame_lengths=None,
                         dynamic_range_db=DYNAMIC_RANGE_DB, eps=1e-8):
    """Mean band-envelope correlation of each utterance: (N,), 1 where the output's envelopes
    are the clean ones up to a gain per band and segment.

    est_spec, ref_spec: complex (N, T, F); bands: (B, F) from third_octave_bands; segment: frames
    per segment; frames at or beyond frame_lengths do not count. An utterance shorter than one
    segment scores 1 (nothing to correlate)."""
    bands = bands.to(est_spec.real.dtype)
    est = (est_spec.abs().pow(2) @ bands.T + eps).sqrt().transpose(1, 2)     # N, B, T
    ref = (ref_spec.abs().pow(2) @ bands.T + eps).sqrt().transpose(1, 2)
    n, _, t = ref.shape
    if t < segment:
        return torch.ones(n, dtype=est.dtype, device=est.device)
    est_seg, ref_seg = est.unfold(2, segment, 1), ref.unfold(2, segment, 1)   # N, B, S, seg
    est_seg = est_seg - est_seg.mean(-1, keepdim=True)
    ref_seg = ref_seg - ref_seg.mean(-1, keepdim=True)
    corr = (est_seg * ref_seg).sum(-1) / (est_seg.norm(dim=-1) * ref_seg.norm(dim=-1) + eps)
    valid = speech_segments(ref, segment, frame_lengths, dynamic_range_db)  # N, S
    corr = corr.mean(1)                                                     # N, S
    count = valid.sum(1)
    score = (corr * valid).sum(1) / count.clamp(min=1)
    return torch.where(count > 0, score, torch.ones_like(score))


def speech_segments(ref_env, segment, frame_lengths, dynamic_range_db):
    """(N, S) float: segments wholly inside the utterance whose clean energy is within
    dynamic_range_db of its loudest segment's."""
    energy = ref_env.pow(2).sum(1).unfold(1, segment, 1).sum(-1)            # N, S
    inside = torch.ones_like(energy, dtype=torch.bool)
    if frame_lengths is not None:
        starts = torch.arange(energy.shape[1], device=energy.device)[None, :]
        inside = starts + segment <= frame_lengths[:, None]
    loudest = torch.where(inside, energy, torch.zeros_like(energy)).amax(1, keepdim=True)
    loud = energy.detach() * 10 ** (dynamic_range_db / 10) >= loudest.detach()
    return (inside & loud).to(energy.dtype)

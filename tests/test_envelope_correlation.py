"""The band-envelope correlation (speechkit.nn.envelope_correlation) against pystoi's own
computation, its invariances and masking, and PHASEN's loss_stoi term built on it."""
import importlib

import numpy as np
import pytest
import torch
from pystoi import utils as pystoi_utils

from speechkit.errors import SpeechkitError
from speechkit.nn.envelope_correlation import envelope_correlation, third_octave_bands
from speechkit.nn.phasen import PHASEN

pystoi_module = importlib.import_module("pystoi.stoi")   # the module, not the function
TINY = dict(n_fft=64, win_length=48, hop_length=12, channels_a=4, channels_p=4, lstm_units=8,
            fc_units=8)


def modulated_noise(n, fs, seed):
    """Noise under a 4 Hz envelope with pauses: speech-like envelopes for every band."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    return rng.standard_normal(n) * np.maximum(np.sin(2 * np.pi * 4 * t), 0.05)


@pytest.mark.parametrize("rate, n_fft", [(10000, 512), (16000, 512), (16000, 400)])
def test_bands_are_pystoi_thirdoct(rate, n_fft):
    expected = pystoi_utils.thirdoct(rate, n_fft, 15, 150)[0]
    np.testing.assert_array_equal(third_octave_bands(n_fft, rate).numpy(), expected)


def test_equals_pystoi_without_clipping(monkeypatch):
    """On pystoi's own spectra (10 kHz, 256-sample frames, silent frames removed), 30-frame
    segments and no dynamic-range cut, the measure is pystoi's d with its clipping switched off
    (BETA so low that the clip bound is never reached)."""
    fs = 10000
    clean = modulated_noise(3 * fs, fs, 0)
    processed = clean + 0.5 * np.random.default_rng(1).standard_normal(clean.size)
    monkeypatch.setattr(pystoi_module, "BETA", -1000.0)
    expected = pystoi_module.stoi(clean, processed, fs)
    x, y = pystoi_utils.remove_silent_frames(clean, processed, 40, 256, 128)
    spectra = [torch.from_numpy(pystoi_utils.stft(s, 256, 512, overlap=2))[None] for s in (x, y)]
    got = envelope_correlation(spectra[1], spectra[0], third_octave_bands(512, fs), 30,
                               dynamic_range_db=1000.0)
    assert 0.3 < expected < 0.95
    assert got.item() == pytest.approx(expected, abs=1e-6)


def test_gain_invariance_padding_and_short_input():
    """1 for the clean spectrum at any gain per band; a padded batch with frame_lengths scores
    each utterance as alone; fewer frames than a segment scores 1."""
    torch.manual_seed(0)
    bands = third_octave_bands(64, 16000)
    clean = torch.randn(1, 80, 33, dtype=torch.complex128)
    band_gain = bands.T.double() @ torch.arange(1.0, bands.shape[0] + 1).double()   # per bin
    assert envelope_correlation(3 * clean, clean, bands, 20).item() == pytest.approx(1, abs=1e-9)
    assert envelope_correlation(clean * band_gain, clean, bands, 20).item() == pytest.approx(
        1, abs=1e-9)
    noisy = clean + 0.7 * torch.randn(1, 80, 33, dtype=torch.complex128)
    alone = envelope_correlation(noisy[:, :50], clean[:, :50], bands, 20)
    padded = torch.cat([clean[:, :50], torch.zeros(1, 30, 33, dtype=clean.dtype)], 1)
    batch = envelope_correlation(torch.cat([noisy, noisy]), torch.cat([padded, clean]), bands,
                                 20, torch.tensor([50, 80]))
    assert 0.2 < alone.item() < 0.99
    assert batch[0].item() == pytest.approx(alone.item(), abs=1e-9)
    assert envelope_correlation(noisy[:, :19], clean[:, :19], bands, 20).item() == 1.0


def test_silent_segments_do_not_count():
    """Segments of clean silence (40 dB and more under the loudest) do not count: two outputs
    that differ only where every segment is silent score the same, and counting all segments
    (no dynamic-range cut) tells them apart."""
    torch.manual_seed(1)
    bands = third_octave_bands(64, 16000)
    speech = torch.randn(1, 60, 33, dtype=torch.complex128)
    clean = torch.cat([speech, 1e-4 * torch.randn(1, 100, 33, dtype=torch.complex128)], 1)
    out_a = clean + 0.5 * torch.randn(1, 160, 33, dtype=torch.complex128)
    out_b = out_a.clone()
    out_b[:, 80:] = torch.randn(1, 80, 33, dtype=torch.complex128)  # after every loud segment
    score = [envelope_correlation(o, clean, bands, 20) for o in (out_a, out_b)]
    assert 0.2 < score[0].item() < 0.99
    assert score[0].item() == pytest.approx(score[1].item(), abs=1e-12)
    every = [envelope_correlation(o, clean, bands, 20, dynamic_range_db=1000.0)
             for o in (out_a, out_b)]
    assert abs(every[0].item() - every[1].item()) > 0.01


def test_phasen_loss_stoi_term():
    """model.loss_stoi w: with loss_relative the noisy input scores 1 + w (its spectral ratio is
    1 and so is its envelope gap over itself); without, the clean spectrum scores 0 and the
    noisy one w (1 - d) above the paper's loss; gradients are finite; bad weights one line."""
    torch.manual_seed(0)
    t = torch.arange(16000) / 16000          # 1334 frames of hop 12: 2.6 segments of 384 ms
    clean = (torch.sin(2 * np.pi * 200 * t) * torch.sin(2 * np.pi * 3 * t).clamp(min=0.05))[None]
    noisy = clean + 0.3 * torch.randn(1, 16000)
    rel = PHASEN(**TINY, loss_relative=True, loss_stoi=0.5)
    noisy_spec = rel.spectrum(noisy)
    ratio, _ = rel.loss_terms({"spec": noisy_spec, "noisy_spec": noisy_spec}, clean)
    assert ratio.item() == pytest.approx(1.5, rel=1e-5)
    plain, paper = PHASEN(**TINY, loss_stoi=2.0), PHASEN(**TINY)
    clean_spec = plain.spectrum(clean)
    sums, bins = plain.loss_terms({"spec": clean_spec}, clean)
    assert (sums / bins).item() == pytest.approx(0, abs=1e-5)         # float32 rounding
    d = plain.envelope_score(noisy_spec, clean_spec, None)
    assert 0.1 < d.item() < 0.99
    sums, bins = plain.loss_terms({"spec": noisy_spec}, clean)
    extra = sums - paper.loss_terms({"spec": noisy_spec}, clean)[0]
    assert (extra / bins).item() == pytest.approx(2.0 * (1 - d.item()), rel=1e-5)
    torch.manual_seed(0)
    net = PHASEN(**TINY, loss_relative=True, loss_stoi=1.0)
    sums, weights = net.loss_terms(net(noisy), clean)
    (sums.sum() / weights.sum()).backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
    for bad in (-1, "1", True):
        with pytest.raises(SpeechkitError, match="model.loss_stoi must be"):
            PHASEN(**TINY, loss_stoi=bad)

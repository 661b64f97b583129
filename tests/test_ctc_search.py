"""speechkit.search.ctc: greedy and prefix beam search against brute force and torch's CTC loss.

The references are independent of the code under test: brute force enumerates every frame-level
path and collapses it with itertools.groupby, and torch.nn.functional.ctc_loss gives
-log P(labelling | x) by the CTC forward algorithm.
"""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from speechkit.search.ctc import greedy_search, greedy_search_batch, prefix_beam_search


def log_softmax(logits):
    return logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)


def random_log_probs(seed, frames, classes, scale=2.0):
    return log_softmax(scale * np.random.default_rng(seed).normal(size=(frames, classes)))


def peaky_log_probs(seed, frames, classes, blank=0):
    """Like a trained model: each frame has one token (mostly blank) at probability > 0.99."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(frames, classes))
    winners = np.where(rng.random(frames) < 0.6, blank, rng.integers(0, classes, frames))
    logits[np.arange(frames), winners] += 9.0
    return log_softmax(logits)


def labelling_log_probs(lp, blank=0):
    """{labelling: log P(labelling | x)} by enumerating all C^T paths."""
    frames, classes = lp.shape
    out = {}
    for path in itertools.product(range(classes), repeat=frames):
        labels = tuple(k for k, _ in itertools.groupby(path) if k != blank)
        score = lp[np.arange(frames), list(path)].sum()
        out[labels] = np.logaddexp(out.get(labels, -np.inf), score)
    return out


def ctc_log_prob(lp, labels, blank=0):
    """log P(labels | x) = -ctc_loss, in float64."""
    x = torch.tensor(lp, dtype=torch.float64)[:, None, :]
    y = torch.tensor([list(labels)], dtype=torch.long).reshape(1, len(labels))
    loss = F.ctc_loss(x, y, torch.tensor([len(lp)]), torch.tensor([len(labels)]), blank=blank,
                      reduction="sum")
    return -loss.item()


def reference_prefix_beam_search(lp, beam, blank=0):
    """The textbook algorithm with dicts keyed by labelling, for long inputs."""
    beams = {(): (0.0, -np.inf)}  # labelling -> (log p ending in blank, ending in a token)
    for lp_t in lp:
        nxt = {}

        def add(labels, b=-np.inf, nb=-np.inf):
            old_b, old_nb = nxt.get(labels, (-np.inf, -np.inf))
            nxt[labels] = (np.logaddexp(old_b, b), np.logaddexp(old_nb, nb))

        for labels, (pb, pnb) in beams.items():
            total = np.logaddexp(pb, pnb)
            add(labels, b=total + lp_t[blank])
            if labels:
                add(labels, nb=pnb + lp_t[labels[-1]])
            for c in range(len(lp_t)):
                if c != blank:
                    from_ = pb if labels and c == labels[-1] else total
                    add(labels + (c,), nb=from_ + lp_t[c])
        ranked = sorted(nxt.items(), key=lambda kv: -np.logaddexp(*kv[1]))
        beams = dict(ranked[:beam])
    return [(list(k), float(np.logaddexp(*v))) for k, v in beams.items()]


def test_hand_worked_greedy_and_beam_differ():
    # Each of 3 frames: blank 0.5, a 0.4, b 0.1. The best path is "- - -" (0.125), so greedy
    # says "". The labelling "a" has 6 paths: a--, -a-, --a (0.4*0.25 each = 0.3), aa-, -aa
    # (0.08 each) and aaa (0.064): P("a") = 0.524, the most probable labelling.
    lp = np.log(np.tile([0.5, 0.4, 0.1], (3, 1)))
    assert greedy_search(lp) == []
    best, score = prefix_beam_search(lp, beam=4)[0]
    assert best == [1]
    assert score == pytest.approx(np.log(0.524), abs=1e-12)
    truth = labelling_log_probs(lp)
    assert max(truth, key=truth.get) == (1,)
    assert truth[()] == pytest.approx(np.log(0.125))


def test_beam_one_can_differ_from_greedy():
    # Frame 1: a wins (0.6); frame 2: b wins (0.4), so the best path "a b" says [1, 2]. But
    # P("a") = a- + aa + -a = 0.18 + 0.18 + 0.09 = 0.45 > P("ab") = 0.24: beam search with
    # beam 1 keeps "a", the better labelling. Its score lacks the path "-a", which began in the
    # prefix "" that beam 1 dropped after frame 1: 0.36, a lower bound; beam 2 gets all 0.45.
    lp = np.log([[0.3, 0.6, 0.1], [0.3, 0.3, 0.4]])
    assert greedy_search(lp) == [1, 2]
    [(hyp, score)] = prefix_beam_search(lp, beam=1)
    assert hyp == [1] and score == pytest.approx(np.log(0.36))
    hyp, score = prefix_beam_search(lp, beam=2)[0]
    assert hyp == [1] and score == pytest.approx(np.log(0.45))
    assert score == pytest.approx(ctc_log_prob(lp, [1]))


@pytest.mark.parametrize("seed,frames,classes", [
    (0, 1, 3), (1, 2, 2), (2, 3, 3), (3, 4, 3), (4, 5, 3), (5, 6, 3), (6, 4, 4), (7, 5, 4),
    (8, 6, 4), (9, 6, 2)])
def test_exhaustive_beam_equals_brute_force(seed, frames, classes):
    # A beam wider than the number of labellings prunes nothing: every labelling and its exact
    # probability comes back, ranked.
    lp = random_log_probs(seed, frames, classes)
    truth = labelling_log_probs(lp)
    hyps = prefix_beam_search(lp, beam=len(truth) + 5)
    assert len(hyps) == len(truth)
    for labels, score in hyps:
        assert score == pytest.approx(truth[tuple(labels)], abs=1e-9)
        assert score == pytest.approx(ctc_log_prob(lp, labels), abs=1e-9)
    assert [s for _, s in hyps] == sorted((s for _, s in hyps), reverse=True)
    assert tuple(hyps[0][0]) == max(truth, key=truth.get)


@pytest.mark.parametrize("seed", range(12))
def test_beam_ten_finds_the_best_labelling(seed):
    lp = random_log_probs(100 + seed, 6, 4)
    truth = labelling_log_probs(lp)
    hyps = prefix_beam_search(lp, beam=10)
    assert len(hyps) == 10
    best = max(truth, key=truth.get)
    # The true best, or a near tie of it that the beam kept more of (seed 10: "2 3 2" at
    # -1.8089 for "2 3 2 3" at -1.8013; beam 40 finds the latter).
    assert tuple(hyps[0][0]) == best or truth[tuple(hyps[0][0])] > truth[best] - 0.05
    assert sum(tuple(h) == best for h, _ in hyps) == 1
    for labels, score in hyps:
        # A lower bound: alignments that passed through a pruned prefix are lost.
        assert score <= truth[tuple(labels)] + 1e-9
    assert hyps[0][1] == pytest.approx(truth[tuple(hyps[0][0])], abs=0.05)


def test_scores_equal_ctc_loss_when_the_beam_holds_every_prefix():
    # With one non-blank token there are at most 21 labellings of 40 frames ("", "a", ...,
    # "a"*20): beam 25 never prunes, so every score is the exact -ctc_loss, on input far too
    # long to enumerate.
    lp = random_log_probs(11, 40, 2, scale=1.0)
    hyps = prefix_beam_search(lp, beam=25)
    assert len(hyps) == 21
    for labels, score in hyps:
        assert set(labels) <= {1}
        assert score == pytest.approx(ctc_log_prob(lp, labels), abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_scores_on_longer_peaky_input_are_close_lower_bounds(seed):
    lp = peaky_log_probs(seed, frames=60, classes=8)
    hyps = prefix_beam_search(lp, beam=10)
    for labels, score in hyps:
        assert score <= ctc_log_prob(lp, labels) + 1e-9
    assert hyps[0][1] == pytest.approx(ctc_log_prob(lp, hyps[0][0]), abs=0.02)


@pytest.mark.parametrize("seed,frames,classes,beam", [
    (0, 50, 6, 5), (1, 80, 4, 10), (2, 30, 30, 10), (3, 120, 5, 3)])
def test_long_random_input_matches_textbook_implementation(seed, frames, classes, beam):
    lp = random_log_probs(seed, frames, classes, scale=1.5)
    got = prefix_beam_search(lp, beam=beam)
    want = reference_prefix_beam_search(lp, beam)
    assert [h for h, _ in got] == [h for h, _ in want]
    assert np.allclose([s for _, s in got], [s for _, s in want], rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_beam_one_equals_greedy_on_peaky_output(seed):
    lp = peaky_log_probs(seed, frames=80, classes=6)
    [(hyp, _)] = prefix_beam_search(lp, beam=1)
    assert hyp == greedy_search(lp)
    assert prefix_beam_search(lp, beam=10)[0][0] == greedy_search(lp)


def test_repeats_need_a_blank_between():
    a_a = np.log([[0.01, 0.98, 0.01], [0.01, 0.98, 0.01]])            # "a a" -> a
    a_blank_a = np.log([[0.01, 0.98, 0.01], [0.98, 0.01, 0.01], [0.01, 0.98, 0.01]])  # a - a
    assert greedy_search(a_a) == [1]
    assert prefix_beam_search(a_a)[0][0] == [1]
    assert greedy_search(a_blank_a) == [1, 1]
    assert prefix_beam_search(a_blank_a)[0][0] == [1, 1]


def test_blank_need_not_be_zero():
    lp = random_log_probs(7, 5, 4)
    moved = np.roll(lp, -1, axis=1)  # old class k is now k-1; the blank moves to index 3
    old_to_new = {1: 0, 2: 1, 3: 2}
    want = [([old_to_new[k] for k in h], s) for h, s in prefix_beam_search(lp, beam=50)]
    got = prefix_beam_search(moved, beam=50, blank=3)
    assert [h for h, _ in got] == [h for h, _ in want]
    assert np.allclose([s for _, s in got], [s for _, s in want])
    assert greedy_search(moved, blank=3) == [old_to_new[k] for k in greedy_search(lp)]


def test_length_ignores_padded_frames():
    lp = peaky_log_probs(3, frames=40, classes=5)
    padded = np.concatenate([lp, log_softmax(np.tile([0.0, 20.0, 0.0, 0.0, 0.0], (15, 1)))])
    assert prefix_beam_search(padded, length=40) == prefix_beam_search(lp)
    assert greedy_search(padded, length=40) == greedy_search(lp)
    assert greedy_search(padded) != greedy_search(lp)  # the padding would have added tokens
    assert prefix_beam_search(lp, length=0) == [([], 0.0)]
    assert greedy_search(lp, length=0) == []


def test_batched_greedy_and_torch_input():
    batch = np.stack([peaky_log_probs(s, frames=30, classes=5) for s in range(3)])
    lengths = [30, 17, 0]
    want = [greedy_search(batch[i], length=n) for i, n in enumerate(lengths)]
    assert greedy_search_batch(batch, lengths) == want
    tensor = torch.tensor(batch, dtype=torch.float32)
    assert greedy_search_batch(tensor, torch.tensor(lengths)) == want
    assert greedy_search_batch(tensor) == [greedy_search(b) for b in batch]
    hyp, score = prefix_beam_search(tensor[1], length=17)[0]
    assert hyp == want[1] and np.isfinite(score)


def test_pruning_keeps_the_result_on_peaky_output():
    lp = peaky_log_probs(5, frames=100, classes=30)
    full = prefix_beam_search(lp, beam=10)
    assert prefix_beam_search(lp, beam=10, prune=29) == full  # every non-blank token kept
    assert prefix_beam_search(lp, beam=10, token_min_logp=-1e9) == full
    for kwargs in ({"prune": 3}, {"token_min_logp": -8.0}, {"prune": 5, "token_min_logp": -8.0}):
        hyp, score = prefix_beam_search(lp, beam=10, **kwargs)[0]
        assert hyp == full[0][0]
        assert score == pytest.approx(full[0][1], abs=1e-4)


@pytest.mark.parametrize("call,message", [
    (lambda: greedy_search(np.zeros((2, 3, 4))), "expected \\(T, C\\)"),
    (lambda: greedy_search(np.zeros((2, 3)), blank=3), "blank 3 out of range"),
    (lambda: prefix_beam_search(np.zeros((2, 3)), length=3), "length 3 out of range"),
    (lambda: prefix_beam_search(np.zeros((2, 3)), beam=0), "beam must be at least 1"),
    (lambda: prefix_beam_search(np.zeros((2, 3)), prune=0), "prune must be at least 1"),
    (lambda: greedy_search_batch(np.zeros((2, 3, 4)), [3, 4]), "lengths must be 2 values"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()

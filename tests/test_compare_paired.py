"""speechkit compare-paired: the paired bootstrap against scipy's and hand-worked cases, and the
command on decode dirs written by hand."""
import numpy as np
import pytest
from scipy import stats

from speechkit.bin import compare_paired
from speechkit.metrics.bootstrap import paired_bootstrap


def test_one_seed_pair_matches_scipys_paired_percentile_bootstrap():
    rng = np.random.default_rng(1)
    a = rng.random((1, 800)) < 0.70
    b = rng.random((1, 800)) < 0.75
    ours = paired_bootstrap(a, b, resamples=4000, seed=2)
    delta = 100 * (b[0].astype(float) - a[0])
    ref = stats.bootstrap((delta,), np.mean, n_resamples=4000, method="percentile",
                          confidence_level=0.95, random_state=3).confidence_interval
    assert ours.diff == pytest.approx(delta.mean())
    assert ours.low == pytest.approx(ref.low, abs=0.4)
    assert ours.high == pytest.approx(ref.high, abs=0.4)


def test_identical_and_opposite_systems():
    a = np.array([[1, 0, 1, 1], [0, 1, 1, 0]], dtype=bool)
    same = paired_bootstrap(a, a, resamples=200)
    assert (same.diff, same.low, same.high, same.prob_better) == (0, 0, 0, 0)
    flipped = paired_bootstrap(np.zeros((3, 5), bool), np.ones((3, 5), bool), resamples=200)
    assert (flipped.diff, flipped.low, flipped.high, flipped.prob_better) == (100, 100, 100, 1)


def test_seed_noise_widens_the_interval():
    """B ahead by 10 points on one seed and behind by 10 on the other: the utterance-only
    interval of each seed excludes 0, the paired one over both seeds must not."""
    rng = np.random.default_rng(0)
    a = rng.random((2, 2000)) < 0.5
    b = a.copy()
    b[0, ~a[0]] = rng.random((~a[0]).sum()) < 0.2     # seed 1: B fixes 20% of A's errors
    b[1, a[1]] = rng.random(a[1].sum()) < 0.8         # seed 2: B breaks 20% of A's successes
    r = paired_bootstrap(a, b, resamples=2000)
    assert r.per_seed[0] > 5 and r.per_seed[1] < -5
    assert r.low < 0 < r.high
    assert 0.1 < r.prob_better < 0.9


def decode_dir(root, name, decisions):
    """exp dir `name` with decode_test: utterances u0.. with label 'yes', decided right where
    decisions is 1."""
    d = root / name / "decode_test"
    d.mkdir(parents=True)
    (d / "ref").write_text("".join(f"u{i} yes\n" for i in range(len(decisions))))
    (d / "text").write_text("".join(f"u{i} {'yes' if c else 'no'}\n" for i, c in enumerate(decisions)))
    return root / name


def test_command_prints_the_table(tmp_path, capsys):
    a = [decode_dir(tmp_path, f"sys_a_seed{s}", [1, 0, 0, 1, 0, 1, 0, 1]) for s in (1, 2)]
    b = [decode_dir(tmp_path, f"sys_b_seed{s}", [1, 1, 1, 1, 0, 1, 1, 1]) for s in (1, 2)]
    assert compare_paired.main(["--a", *map(str, a), "--b", *map(str, b), "--resamples", "500"]) == 0
    out = capsys.readouterr().out
    assert "## sys_b (B) against sys_a (A): accuracy" in out
    row = next(ln for ln in out.splitlines() if ln.startswith("| test |"))
    assert row.startswith("| test | 50.00 | 87.50 | +37.50 | +37.50 +37.50 |")


@pytest.mark.parametrize("setup, message", [
    ("unequal", "--a has 2 runs and --b 1"),
    ("other_utts", "other utterances than the first run's decode_test"),
    ("undecoded", "no decode_*/ref; decode it first"),
])
def test_bad_input_is_one_line(tmp_path, capsys, setup, message):
    a = [decode_dir(tmp_path, f"a_seed{s}", [1, 0, 1]) for s in (1, 2)]
    if setup == "unequal":
        b = [decode_dir(tmp_path, "b_seed1", [1, 1, 1])]
    elif setup == "other_utts":
        b = [decode_dir(tmp_path, f"b_seed{s}", [1, 1, 1, 1]) for s in (1, 2)]
    else:
        b = [tmp_path / "b_seed1", tmp_path / "b_seed2"]
        for d in b:
            d.mkdir()
    assert compare_paired.main(["--a", *map(str, a), "--b", *map(str, b)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]

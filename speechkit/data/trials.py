"""Speaker-verification trial lists: `<utt1> <utt2> target|nontarget`, one pair per line.

The format is Kaldi's (egs/voxceleb: data/voxceleb1_test/trials). A trial list belongs to one
data dir and pairs only its own utterances; it lives beside the tables as `<data dir>/trials`.

make_trials() draws a balanced list (half target, half non-target pairs) as a pure function
of utt2spk, the number of trials and a seed, so that every corpus without an official list gets
the same kind of list:

- target pairs are spread over the speakers as evenly as their utterances allow (a speaker with
  k utterances has k(k-1)/2 pairs), non-target pairs as evenly over the speaker pairs (a pair of
  speakers with j and k utterances has j*k); within a speaker or a speaker pair the utterance
  pairs are drawn uniformly, never twice, never an utterance with itself;
- which utterance of a pair comes first is a coin flip (so that a one-sided score does not see
  a systematic order); the list is sorted by (utt1, utt2), grouping the trials of an enrolment
  utterance as VoxCeleb's list does.

Randomness comes only from random.Random(seed string).random(), the one stream Python keeps the
same across versions, and the inputs are sorted first: the same utt2spk, n and seed give the
same list, whatever the order of the dict.
"""
import math
import random
from pathlib import Path

from speechkit.errors import SpeechkitError, where
from speechkit.io.atomic import atomic_write_text

TARGET = "target"
NONTARGET = "nontarget"
LABELS = (TARGET, NONTARGET)


def _randint(rng, lo, hi):
    """Uniform integer in [lo, hi] from rng.random() alone (stable across Python versions)."""
    return lo + min(int(rng.random() * (hi - lo + 1)), hi - lo)


def sample_indices(rng, total, k):
    """k distinct integers of range(total) drawn with rng (a random.Random), in draw order.

    A partial Fisher-Yates shuffle kept in a dict: O(k) time and memory, whatever `total`.
    """
    moved, out = {}, []
    for i in range(k):
        j = _randint(rng, i, total - 1)
        out.append(moved.get(j, j))
        moved[j] = moved.get(i, i)
    return out


def _spread(rng, capacities, total):
    """Quotas summing to `total`, as even as the capacities allow (water filling); the remainder
    that cannot be split evenly goes to bins drawn at random."""
    quotas = [0] * len(capacities)
    open_bins = [i for i, c in enumerate(capacities) if c > 0]
    left = total
    while left and open_bins:
        share = left // len(open_bins)
        if share == 0:
            for pick in sample_indices(rng, len(open_bins), left):
                quotas[open_bins[pick]] += 1
            break
        for i in open_bins:
            give = min(share, capacities[i] - quotas[i])
            quotas[i] += give
            left -= give
        open_bins = [i for i in open_bins if quotas[i] < capacities[i]]
    return quotas


def _unrank_pair(index, n):
    """The index-th pair (a, b), a < b, of range(n) in lexicographic order."""
    a = 0
    while index >= n - 1 - a:
        index -= n - 1 - a
        a += 1
    return a, a + 1 + index


def _group(utt2spk):
    """[(speaker, sorted utterances)] sorted by speaker."""
    spk2utts = {}
    for utt, spk in utt2spk.items():
        spk2utts.setdefault(spk, []).append(utt)
    return [(spk, sorted(utts)) for spk, utts in sorted(spk2utts.items())]


def capacity(utt2spk):
    """(number of distinct target pairs, number of distinct non-target pairs) of a set."""
    sizes = [len(utts) for _, utts in _group(utt2spk)]
    total = sum(sizes)
    targets = sum(math.comb(k, 2) for k in sizes)
    return targets, math.comb(total, 2) - targets


def max_trials(utt2spk):
    """The largest even number of trials a balanced list of this set can hold."""
    return 2 * min(capacity(utt2spk))


def make_trials(utt2spk, n, seed=0):
    """A balanced trial list of `n` trials -> [(utt1, utt2, 'target'|'nontarget')], sorted.

    n // 2 target and n - n // 2 non-target pairs (give an even n for an exact balance).
    Raises SpeechkitError when the set has too few pairs of either kind.
    """
    if n < 1:
        raise SpeechkitError(f"number of trials must be >= 1, not {n}")
    groups = _group(utt2spk)
    n_target, n_nontarget = n // 2, n - n // 2
    targets, nontargets = capacity(utt2spk)
    if n_target > targets or n_nontarget > nontargets:
        raise SpeechkitError(
            f"{n} balanced trials need {n_target} target and {n_nontarget} non-target pairs; "
            f"these {len(groups)} speakers have {targets} and {nontargets}: ask for at most "
            f"{max_trials(utt2spk)} trials, or give the speakers more utterances")
    rng = random.Random(f"speechkit-trials/{seed}")
    pairs = [(a, b, TARGET) for a, b in _target_pairs(rng, groups, n_target)]
    pairs += [(a, b, NONTARGET) for a, b in _nontarget_pairs(rng, groups, n_nontarget)]
    oriented = [(b, a, label) if rng.random() < 0.5 else (a, b, label) for a, b, label in pairs]
    return sorted(oriented)


def _target_pairs(rng, groups, n):
    quotas = _spread(rng, [math.comb(len(utts), 2) for _, utts in groups], n)
    out = []
    for (_, utts), quota in zip(groups, quotas):
        for index in sample_indices(rng, math.comb(len(utts), 2), quota):
            a, b = _unrank_pair(index, len(utts))
            out.append((utts[a], utts[b]))
    return out


def _nontarget_pairs(rng, groups, n):
    speaker_pairs = [(i, j) for i in range(len(groups)) for j in range(i + 1, len(groups))]
    sizes = [len(utts) for _, utts in groups]
    quotas = _spread(rng, [sizes[i] * sizes[j] for i, j in speaker_pairs], n)
    out = []
    for (i, j), quota in zip(speaker_pairs, quotas):
        for index in sample_indices(rng, sizes[i] * sizes[j], quota):
            out.append((groups[i][1][index // sizes[j]], groups[j][1][index % sizes[j]]))
    return out


def format_trials(trials):
    return "".join(f"{a} {b} {label}\n" for a, b, label in trials)


def write_trials(path, trials):
    """Write [(utt1, utt2, label)] as a Kaldi trials file, atomically, in the order given."""
    for a, b, label in trials:
        if label not in LABELS:
            raise ValueError(f"trial {a} {b}: label {label!r} is not target or nontarget")
    atomic_write_text(path, format_trials(trials))


def read_trials(path, utts=None):
    """[(utt1, utt2, label)] of a trials file; with `utts` (a data dir's utterances), every
    utterance of a trial must be one of them."""
    path = Path(path)
    if not path.is_file():
        raise SpeechkitError(f"{path}: no such trials file; data preparation writes one for each "
                             f"evaluation set (`speechkit prepare-corpus ...`)")
    known = set(utts) if utts is not None else None
    trials = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if len(fields) != 3 or fields[2] not in LABELS:
                raise SpeechkitError(f"{where(path, lineno)}: expected `<utt1> <utt2> "
                                     f"target|nontarget`, got {line.strip()!r}")
            if known is not None:
                missing = [u for u in fields[:2] if u not in known]
                if missing:
                    raise SpeechkitError(f"{where(path, lineno, missing[0])}: not an utterance of "
                                         f"the data dir; were the trials made for another set?")
            trials.append(tuple(fields))
    if not trials:
        raise SpeechkitError(f"{path}: empty trials file")
    return trials

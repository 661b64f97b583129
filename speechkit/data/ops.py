"""Data-dir operations behind utils/: fix, subset, combine, split, copy.

Each works on DataDir objects so that every table (task extras included) follows the utterances
kept, and spk2utt is always regenerated from utt2spk.
"""
import logging
import shutil
from pathlib import Path

from speechkit.data.datadir import REC_TABLES, SPK_TABLES, DataDir, utt2spk_to_spk2utt
from speechkit.errors import SpeechkitError
from speechkit.io.atomic import write_error
from speechkit.io.table import read_table

log = logging.getLogger("speechkit.data")
FEATS_YAML = "feats.yaml"  # the typed feature config beside feats.scp


def _utt_sets(data):
    """Key sets that every utterance must be in (segments or wav.scp stand for audio)."""
    sets = [set(t) for name, t in data.tables.items()
            if name not in SPK_TABLES + REC_TABLES]
    if "wav.scp" in data and not data.has_segments:
        sets.append(set(data["wav.scp"]))
    if data.has_segments and "wav.scp" in data:
        recs = set(data["wav.scp"])
        sets.append({u for u, v in data["segments"].items() if v.split()[0] in recs})
    return sets


def fix(path):
    """Keep the utterances present in every table. -> (kept, total, backup dir or None).

    The tables it changes are first copied, with the others, to the first free backup dir of
    `.backup`, `.backup.2`, `.backup.3`, ...: a second run never overwrites the originals, and a
    run that changes nothing writes nothing.
    """
    path = Path(path)
    data = DataDir.load(path, lenient=True)
    if "utt2spk" not in data:
        raise SpeechkitError(f"{path}/utt2spk: no such file; the fixer starts from utt2spk")
    total = len(data["utt2spk"])
    keep = set.intersection(*_utt_sets(data))
    if "cmvn.scp" in data:
        keep = {u for u in keep if data["utt2spk"][u] in data["cmvn.scp"]}
    fixed = data.subset(keep)
    rendered = fixed.rendered()
    if all(_text(path / name) == text for name, text in rendered.items()):
        return len(keep), total, None
    backup = _free_backup_dir(path)
    try:
        backup.mkdir()
        for name in sorted(set(data.tables) | set(rendered)):
            if (path / name).is_file():
                shutil.copy2(path / name, backup / name)
    except OSError as e:
        raise write_error(backup, e) from None
    fixed.write(path)
    return len(keep), total, backup


def _text(path):
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _free_backup_dir(path):
    """.backup, or .backup.N for the first N >= 2 not taken (an empty dir counts as free)."""
    for n in range(1, 10000):
        candidate = path / (".backup" if n == 1 else f".backup.{n}")
        if not candidate.exists():
            return candidate
        if candidate.is_dir() and not any(candidate.iterdir()):
            candidate.rmdir()
            return candidate
    raise SpeechkitError(f"{path}: 9999 backup dirs (.backup.N); remove old ones")


def _lengths(data):
    for name in ("utt2num_frames", "utt2dur"):
        if name in data:
            return {u: float(v) for u, v in data[name].items()}
    raise SpeechkitError(f"{data.path}: --shortest needs utt2num_frames or utt2dur; make "
                         f"features first or run utils/data/get_utt2dur.sh")


def _read_list(path):
    return [k for k, _ in read_table(path, check_sorted=False)]


def select_utts(data, first=None, last=None, shortest=None, per_spk=None, utt_list=None,
                spk_list=None, num=None):
    """Utterance ids chosen by exactly one of the subset criteria, as Kaldi's subset_data_dir.sh.

    A number larger than the data dir holds is an error, as in Kaldi, for every criterion.
    """
    utts = data.utts
    count = next((n for n in (first, last, shortest, per_spk, num) if n is not None), None)
    if count is not None:
        if count < 1:
            raise SpeechkitError(f"subset of {data.path}: the number of utterances must be at "
                                 f"least 1, got {count}")
        if count > len(utts):
            raise SpeechkitError(f"subset of {data.path}: cannot subset to {count} utterances, "
                                 f"it holds {len(utts)}")
    if first is not None:
        return utts[:first]
    if last is not None:
        return utts[len(utts) - last:]
    if shortest is not None:
        lengths = _lengths(data)
        return sorted(utts, key=lambda u: (lengths.get(u, float("inf")), u))[:shortest]
    if per_spk is not None:
        return [u for us in _spk2utt(data).values() for u in spread_per_speaker(us, per_spk)]
    if utt_list is not None:
        wanted = set(_read_list(utt_list))
        return [u for u in utts if u in wanted]
    if spk_list is not None:
        wanted = set(_read_list(spk_list))
        return [u for u in utts if data["utt2spk"][u] in wanted]
    if num is not None:
        return [utts[i] for i in spread_evenly(len(utts), num)]
    raise SpeechkitError("subset: give one of --first, --last, --shortest, --per-spk, "
                         "--utt-list, --spk-list or a number")


def _spk2utt(data):
    """The speakers' utterance lists: spk2utt as written (Kaldi reads the file), else utt2spk's."""
    if "spk2utt" in data:
        return {spk: utts.split() for spk, utts in data["spk2utt"].items()}
    return data.spk2utt()


def spread_per_speaker(utts, n):
    """Kaldi's --per-spk choice: every skip-th utterance, skip the largest with n*skip <= len."""
    skip = 1
    while n * (skip + 1) <= len(utts):
        skip += 1
    # awk fields x = 2, 2+skip, ... while x <= n*skip+1, i.e. indices 0, skip, ... < n*skip.
    return utts[0:n * skip:skip]


def spread_evenly(total, num):
    """Indices utils/subset_scp.pl picks: split the range in halves, the need in halves, recurse."""
    picked = []

    def select(start, end, needed):
        if needed == 0:
            return  # Kaldi recurses on and prints nothing
        if end - start == 1:
            picked.append(start)
            return
        half, half_needed = (end - start) // 2, needed // 2
        select(start, start + half, half_needed)
        select(start + half, end, needed - half_needed)

    select(0, total, num)
    return picked


def subset(src, dest, **criteria):
    data = DataDir.load(src)
    utts = select_utts(data, **criteria)
    if not utts:
        raise SpeechkitError(f"subset of {src}: no utterance selected")
    data.subset(utts).write(dest, src=src)
    return len(utts), len(data.utts)


def combine(dest, srcs):
    """Union of data dirs; tables missing from any source are dropped, as in Kaldi."""
    datas = [DataDir.load(s) for s in srcs]
    if len({d.has_segments for d in datas}) > 1:
        raise SpeechkitError("combine: some sources have segments and some do not; add "
                             "whole-recording segments to the others first")
    common = set.intersection(*(set(d.tables) for d in datas))
    if "feats.scp" in common:
        _check_same_feature_config(datas)
    for d in datas:
        dropped = sorted(set(d.tables) - common - {"spk2utt"})
        if dropped:
            log.warning("combine: %s not in every source, dropped (from %s)", ", ".join(dropped), d.path)
    tables = {}
    for name in sorted(common):
        merged = {}
        for d in datas:
            for key, value in d[name].items():
                if key in merged and merged[key] != value:
                    raise SpeechkitError(f"combine: key {key} of {name} in {d.path} is also in "
                                         f"an earlier source with another value")
                merged[key] = value
        tables[name] = merged
    DataDir(dest, tables).write(dest, src=srcs[0])
    return len(tables.get("utt2spk", {}))


def _check_same_feature_config(datas):
    """Features made with different configs cannot share one feats.scp."""
    configs = [(d.path / FEATS_YAML, _text(d.path / FEATS_YAML)) for d in datas]
    configs = [(p, t) for p, t in configs if t is not None]
    for path, text in configs[1:]:
        if text != configs[0][1]:
            raise SpeechkitError(f"combine: {configs[0][0]} and {path} differ: their features "
                                 f"were made with different configs; recompute the features of "
                                 f"the combined dir, or remove feats.scp from the sources")


def split(path, num_jobs, per_utt=False):
    """Write data/splitN/{1..N}; by speaker (default, like Kaldi) or by utterance."""
    data = DataDir.load(path)
    groups = [[u] for u in data.utts] if per_utt else list(data.spk2utt().values())
    if len(groups) < num_jobs:
        what = "utterances" if per_utt else "speakers"
        raise SpeechkitError(f"split of {path} into {num_jobs}: only {len(groups)} {what}; "
                             f"use fewer jobs" + ("" if per_utt else " or --per-utt"))
    root = Path(path) / f"split{num_jobs}{'utt' if per_utt else ''}"
    for job, utts in enumerate(_balanced(groups, num_jobs), 1):
        data.subset(utts).write(root / str(job), src=path)
    return root


def _balanced(groups, num_jobs):
    """Cut the ordered groups into num_jobs contiguous parts with near-equal utterance counts."""
    total = sum(map(len, groups))
    parts, current, done = [], [], 0
    for i, group in enumerate(groups):
        current.extend(group)
        done += len(group)
        left_groups, left_parts = len(groups) - i - 1, num_jobs - len(parts) - 1
        target = total * (len(parts) + 1) / num_jobs
        if left_parts > 0 and (done >= target or left_groups == left_parts):
            parts.append(current)
            current = []
    parts.append(current)
    return parts


def copy(src, dest, utt_prefix="", utt_suffix="", spk_prefix="", spk_suffix=""):
    """Copy a data dir, optionally renaming utterances and speakers (Kaldi's copy_data_dir.sh)."""
    data = DataDir.load(src)
    if spk_prefix and not utt_prefix.startswith(spk_prefix):
        log.warning("copy: speaker prefix %r without the same utterance prefix breaks the "
                    "speaker-prefix rule", spk_prefix)
    umap = lambda u: f"{utt_prefix}{u}{utt_suffix}"  # noqa: E731
    smap = lambda s: f"{spk_prefix}{s}{spk_suffix}"  # noqa: E731
    tables = {}
    for name, table in data.tables.items():
        if name == "spk2utt":
            continue
        if name in SPK_TABLES:
            tables[name] = {smap(k): v for k, v in table.items()}
        elif name in REC_TABLES and data.has_segments:
            tables[name] = dict(table)
        elif name == "utt2spk":
            tables[name] = {umap(k): smap(v) for k, v in table.items()}
        else:
            tables[name] = {umap(k): v for k, v in table.items()}
    DataDir(dest, tables).write(dest, src=src)
    return len(tables["utt2spk"])


def spk2utt_from_file(utt2spk_path):
    return utt2spk_to_spk2utt(dict(read_table(utt2spk_path)))

"""Data-dir operations behind utils/: fix, subset, combine, split, copy.

Each works on DataDir objects so that every table (task extras included) follows the utterances
kept, and spk2utt is always regenerated from utt2spk.
"""
import logging
import shutil
from pathlib import Path

from speechkit.data.datadir import REC_TABLES, SPK_TABLES, DataDir, utt2spk_to_spk2utt
from speechkit.errors import SpeechkitError
from speechkit.io.table import read_table

log = logging.getLogger("speechkit.data")


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
    """Keep the utterances present in every table; back up the old files. -> (kept, total)."""
    path = Path(path)
    data = DataDir.load(path, lenient=True)
    if "utt2spk" not in data:
        raise SpeechkitError(f"{path}/utt2spk: no such file; the fixer starts from utt2spk")
    total = len(data["utt2spk"])
    keep = set.intersection(*_utt_sets(data))
    if "cmvn.scp" in data:
        keep = {u for u in keep if data["utt2spk"][u] in data["cmvn.scp"]}
    backup = path / ".backup"
    backup.mkdir(exist_ok=True)
    for name in list(data.tables) + ["spk2utt"]:
        if (path / name).is_file():
            shutil.copy(path / name, backup / name)
    data.subset(keep).write(path)
    return len(keep), total


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
    """Utterance ids chosen by exactly one of the subset criteria (Kaldi's subset_data_dir.sh)."""
    utts = data.utts
    if first is not None:
        return utts[:first]
    if last is not None:
        return utts[len(utts) - last:]
    if shortest is not None:
        lengths = _lengths(data)
        return sorted(utts, key=lambda u: (lengths.get(u, float("inf")), u))[:shortest]
    if per_spk is not None:
        return [u for us in data.spk2utt().values() for u in us[:per_spk]]
    if utt_list is not None:
        wanted = set(_read_list(utt_list))
        return [u for u in utts if u in wanted]
    if spk_list is not None:
        wanted = set(_read_list(spk_list))
        return [u for u in utts if data["utt2spk"][u] in wanted]
    if num is not None:
        # Evenly spaced, as Kaldi's subset_scp.pl: deterministic and spread over speakers.
        if num >= len(utts):
            return utts
        return [utts[int(i * len(utts) / num)] for i in range(num)]
    raise SpeechkitError("subset: give one of --first, --last, --shortest, --per-spk, "
                         "--utt-list, --spk-list or a number")


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

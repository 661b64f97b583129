"""Check a data dir the way Kaldi's utils/validate_data_dir.sh does, explaining every failure.

Each problem is one line naming the file, the line, the key and the fix; all problems are
collected (up to a few per kind) rather than stopping at the first. Beyond Kaldi's checks,
feats.scp and cmvn.scp are checked entry by entry (speechkit.data.check_feats), and a line with
a key and no value is a problem in every table but `text`.
"""
from pathlib import Path

from speechkit.data.check_feats import check_scp
from speechkit.data.datadir import SPK_TABLES, utt_tables, utt2spk_to_spk2utt
from speechkit.errors import SpeechkitError
from speechkit.io.audio import is_pipe
from speechkit.io.table import read_table

MAX_PER_KIND = 3


class Problems(list):
    def add(self, msg):
        self.append(msg)


def _load(path, problems):
    """The table as {key: (lineno, value)}, or None with the reason recorded."""
    try:
        return {k: (i, v) for i, (k, v) in enumerate(read_table(path), 1)}
    except SpeechkitError as e:
        problems.add(str(e))
        return None


def _compare_keys(ref_name, ref, name, table, path, problems, fix):
    """Report keys of `table` missing from `ref` and the other way round."""
    extra = [k for k in table if k not in ref]
    missing = [k for k in ref if k not in table]
    for k in extra[:MAX_PER_KIND]:
        problems.add(f"{path / name}:{table[k][0]} (key {k}): not in {ref_name}; {fix}")
    for k in missing[:MAX_PER_KIND]:
        problems.add(f"{path / ref_name}:{ref[k][0]} (key {k}): missing from {name}; {fix}")
    more = len(extra) + len(missing) - min(len(extra), MAX_PER_KIND) - min(len(missing), MAX_PER_KIND)
    if more > 0:
        problems.add(f"{path / name}: {more} more keys differ from {ref_name}")


def validate(path, no_text=False, no_feats=False, no_wav=False, check_audio_exists=True):
    """List of problems (empty when the data dir is valid)."""
    path = Path(path)
    problems = Problems()
    if not path.is_dir():
        return [f"{path}: no such data directory"]
    fix = f"run utils/fix_data_dir.sh {path}"
    required = ["utt2spk", "spk2utt"] + ([] if no_text else ["text"]) + \
               ([] if no_wav else ["wav.scp"]) + ([] if no_feats else ["feats.scp"])
    for name in required:
        if not (path / name).is_file():
            flag = {"text": " (if this is by design, use --no-text)",
                    "wav.scp": " (if this is by design, use --no-wav)",
                    "feats.scp": " (if this is by design, use --no-feats)"}.get(name, "")
            problems.add(f"{path / name}: no such file{flag}")
    if not (path / "utt2spk").is_file():
        return problems
    utt2spk = _load(path / "utt2spk", problems)
    if utt2spk is None:
        return problems
    _check_speakers(path, utt2spk, problems, fix)
    tables = _check_utt_tables(path, utt2spk, problems, fix, no_text, no_feats)
    if not no_wav and (path / "wav.scp").is_file():
        _check_wav(path, utt2spk, problems, fix, check_audio_exists)
    if "feats.scp" in tables:
        _check_feats(path, tables, problems)
    return problems


def _check_speakers(path, utt2spk, problems, fix):
    bad = [(u, ln, s) for u, (ln, s) in utt2spk.items() if not u.startswith(s)]
    for utt, lineno, spk in bad[:MAX_PER_KIND]:
        problems.add(f"{path / 'utt2spk'}:{lineno} (key {utt}): speaker id {spk} is not a prefix "
                     f"of the utterance id; rename utterances to <speaker>-<rest> so that "
                     f"sorting by utterance also sorts by speaker")
    if not (path / "spk2utt").is_file():
        return
    spk2utt = _load(path / "spk2utt", problems)
    if spk2utt is None:
        return
    expected = utt2spk_to_spk2utt({u: s for u, (_, s) in utt2spk.items()})
    for spk, (lineno, utts) in spk2utt.items():
        if sorted(utts.split()) != sorted(expected.get(spk, [])):
            problems.add(f"{path / 'spk2utt'}:{lineno} (key {spk}): does not match utt2spk; "
                         f"regenerate it with utils/utt2spk_to_spk2utt {path}/utt2spk > "
                         f"{path}/spk2utt")
            return
    if set(spk2utt) != set(expected):
        problems.add(f"{path / 'spk2utt'}: speakers differ from utt2spk; regenerate it with "
                     f"utils/utt2spk_to_spk2utt {path}/utt2spk > {path}/spk2utt")
    if (path / "cmvn.scp").is_file():
        cmvn = _load(path / "cmvn.scp", problems)
        if cmvn is not None:
            _compare_keys("spk2utt", spk2utt, "cmvn.scp", cmvn, path, problems,
                          "recompute CMVN stats")


def _check_utt_tables(path, utt2spk, problems, fix, no_text, no_feats):
    """Compare every per-utterance table with utt2spk; -> {name: table} of those loaded."""
    skip = {"utt2spk", "segments"} | ({"text"} if no_text else set()) | \
           ({"feats.scp", "utt2num_frames"} if no_feats else set())
    _check_values(path, "utt2spk", utt2spk, problems, "speaker id")
    loaded = {}
    for name in ["text"] + utt_tables(path):
        if name in skip or not (path / name).is_file() or name in SPK_TABLES:
            continue
        skip.add(name)
        table = _load(path / name, problems)
        if table is not None:
            loaded[name] = table
            _compare_keys("utt2spk", utt2spk, name, table, path, problems, fix)
            if name != "text":  # an empty transcript is allowed; an empty value elsewhere is not
                _check_values(path, name, table, problems, "value")
    return loaded


def _check_values(path, name, table, problems, field):
    """Lines with a key and nothing after it (a wav.scp line without its path, ...)."""
    empty = [(k, ln) for k, (ln, v) in table.items() if not v]
    for key, lineno in empty[:MAX_PER_KIND]:
        problems.add(f"{path / name}:{lineno} (key {key}): nothing after the key; each line is "
                     f"`<key> <{field}>`: add the {field} or remove the line")


def _check_feats(path, tables, problems):
    """Every feats.scp entry points at a whole matrix of one dimension; cmvn.scp fits it."""
    frames = {k: v for k, (_, v) in tables.get("utt2num_frames", {}).items()}
    lines = [(ln, k, v) for k, (ln, v) in tables["feats.scp"].items()]
    found, dim = check_scp(path / "feats.scp", lines, frames or None)
    for p in found:
        problems.add(p)
    if not (path / "cmvn.scp").is_file():
        return
    cmvn = _load(path / "cmvn.scp", [])
    if cmvn is None:
        return  # reported with the speaker checks
    fix = f"recompute CMVN stats (utils/compute_cmvn_stats.sh {path})"
    found, stats_dim = check_scp(path / "cmvn.scp", [(ln, k, v) for k, (ln, v) in cmvn.items()],
                                 rows=2, fix=fix)
    for p in found:
        problems.add(p)
    if not found and dim is not None and stats_dim is not None and stats_dim != dim + 1:
        problems.add(f"{path / 'cmvn.scp'}: stats of dimension {stats_dim - 1}, features of "
                     f"dimension {dim}; {fix}")


def _check_wav(path, utt2spk, problems, fix, check_audio_exists):
    wav = _load(path / "wav.scp", problems)
    if wav is None:
        return
    _check_values(path, "wav.scp", wav, problems, "audio path or command")
    if (path / "segments").is_file():
        segments = _load(path / "segments", problems)
        if segments is None:
            return
        _compare_keys("utt2spk", utt2spk, "segments", segments, path, problems, fix)
        for utt, (lineno, value) in segments.items():
            rec = value.split()[0] if value else ""
            if rec not in wav:
                problems.add(f"{path / 'segments'}:{lineno} (key {utt}): recording {rec} not in "
                             f"wav.scp; {fix}")
                break
    else:
        _compare_keys("utt2spk", utt2spk, "wav.scp", wav, path, problems, fix)
    if check_audio_exists:
        missing = [(k, ln, v) for k, (ln, v) in wav.items()
                   if v and not is_pipe(v) and not Path(v).exists()]
        for key, lineno, value in missing[:MAX_PER_KIND]:
            problems.add(f"{path / 'wav.scp'}:{lineno} (key {key}): audio file {value} does not "
                         f"exist; fix the path (relative paths are relative to where you run)")

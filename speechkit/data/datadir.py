"""A Kaldi data directory: its tables, loaded and written as a unit.

Per-utterance tables are `text`, `utt2spk`, `segments`, `utt2dur`, `feats.scp`,
`utt2num_frames` and any task extra `utt2<x>` (`utt2emo`, `utt2clean`, ...); `wav.scp` is
per recording (per utterance when there are no segments); `spk2utt` and `cmvn.scp` per speaker.
`feats.yaml` (the typed feature config) travels with `feats.scp`: a copy without features
does not get it.
"""
import shutil
from pathlib import Path

from speechkit.errors import SpeechkitError
from speechkit.io.atomic import write_error
from speechkit.io.table import format_table, read_table, write_table

UTT_TABLES = ("text", "utt2spk", "segments", "utt2dur", "feats.scp", "utt2num_frames")
SPK_TABLES = ("spk2utt", "cmvn.scp", "spk2gender")
REC_TABLES = ("wav.scp", "reco2file_and_channel", "reco2dur")
# Files copied as they are: configs and notes that belong to the whole directory. The feature
# config (feats.yaml, or conf/ of the old layout) is copied only along with feats.scp.
PLAIN_FILES = ("frame_shift", "conf", "feats.yaml")
FEATURE_FILES = ("conf", "feats.yaml")


def utt_tables(path):
    """Names of the per-utterance tables present in `path`, task extras included."""
    path = Path(path)
    extras = sorted(p.name for p in path.glob("utt2*") if p.is_file() and p.name not in UTT_TABLES)
    return [n for n in UTT_TABLES if (path / n).is_file()] + extras


class DataDir:
    """The tables of a data dir as {name: {key: value}}, in file order."""

    def __init__(self, path, tables):
        self.path = Path(path)
        self.tables = tables

    @classmethod
    def load(cls, path, lenient=False):
        """Load every table; lenient (for the fixer) accepts unsorted tables, keeping first keys,
        and drops a byte-order mark."""
        path = Path(path)
        if not path.is_dir():
            raise SpeechkitError(f"{path}: no such data directory")
        names = utt_tables(path) + [n for n in SPK_TABLES + REC_TABLES if (path / n).is_file()]
        tables = {n: dict(read_table(path / n, check_sorted=not lenient, allow_empty=True,
                                     keep_first=lenient, strip_bom=lenient))
                  for n in names}
        return cls(path, tables)

    def __contains__(self, name):
        return name in self.tables

    def __getitem__(self, name):
        return self.tables[name]

    @property
    def utts(self):
        return list(self.tables["utt2spk"])

    @property
    def has_segments(self):
        return "segments" in self.tables

    def spk2utt(self):
        """spk2utt derived from utt2spk (the source of truth, as in Kaldi)."""
        return utt2spk_to_spk2utt(self.tables["utt2spk"])

    def subset(self, utts):
        """A new DataDir (not yet written) restricted to `utts`, with every table kept consistent."""
        keep = set(utts)
        tables = {}
        for name, table in self.tables.items():
            if name in SPK_TABLES:
                continue
            if name in REC_TABLES and self.has_segments:
                recs = {self.tables["segments"][u].split()[0] for u in keep
                        if u in self.tables["segments"]}
                tables[name] = {k: v for k, v in table.items() if k in recs}
            else:
                tables[name] = {k: v for k, v in table.items() if k in keep}
        spks = {tables["utt2spk"][u] for u in tables.get("utt2spk", {})}
        for name in ("cmvn.scp", "spk2gender"):
            if name in self.tables:
                tables[name] = {k: v for k, v in self.tables[name].items() if k in spks}
        return DataDir(self.path, tables)

    def rendered(self):
        """{file name: text} of the tables as write() writes them (spk2utt regenerated)."""
        out = {name: format_table(table) for name, table in self.tables.items()
               if name != "spk2utt"}
        if "utt2spk" in self.tables:
            out["spk2utt"] = format_table(self.spk2utt())
        return out

    def write(self, dest, src=None, replace=False):
        """Write every table to `dest` (spk2utt regenerated) and copy the plain files.

        replace (for data preparation) first removes the data-dir files of `dest` that this
        DataDir does not hold (features, another corpus's extras), so a rewritten dir validates.
        """
        dest = Path(dest)
        if replace:
            self._remove_stale(dest)
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise write_error(dest, e) from None
        for name, table in self.tables.items():
            if name != "spk2utt":
                write_table(dest / name, table)
        if "utt2spk" in self.tables:
            write_table(dest / "spk2utt", self.spk2utt())
        src = Path(src or self.path)
        if src.resolve() == dest.resolve():
            return
        for name in PLAIN_FILES:
            if not (src / name).exists() or (name in FEATURE_FILES and "feats.scp" not in self.tables):
                continue
            try:
                if (src / name).is_dir():
                    shutil.copytree(src / name, dest / name, dirs_exist_ok=True)
                else:
                    shutil.copy(src / name, dest / name)
            except OSError as e:
                raise write_error(dest / name, e) from None

    def _remove_stale(self, dest):
        if not dest.is_dir():
            return
        known = set(UTT_TABLES + SPK_TABLES + REC_TABLES + PLAIN_FILES)
        keep = set(self.tables) | {"spk2utt"}
        for path in dest.iterdir():
            if path.name in keep:
                continue
            if path.name in known or path.name.startswith("utt2") or path.name.startswith("split"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()


def utt2spk_to_spk2utt(utt2spk):
    """{utt: spk} -> {spk: [utts]} with utterances in the order given."""
    out = {}
    for utt, spk in utt2spk.items():
        out.setdefault(spk, []).append(utt)
    return out


def spk2utt_to_utt2spk(spk2utt):
    """{spk: 'u1 u2' or [u1, u2]} -> {utt: spk}."""
    out = {}
    for spk, utts in spk2utt.items():
        for utt in (utts.split() if isinstance(utts, str) else utts):
            out[utt] = spk
    return out

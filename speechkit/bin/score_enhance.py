"""Score enhanced audio against clean references: PESQ, STOI, eSTOI, SI-SDR, SSNR, CSIG/CBAK/COVL.

  speechkit score-enhance [--nj 2] exp/phasen_seed1/decode_test

Reads <dir>/wav.scp (the enhanced or baseline audio, as `speechkit enhance` writes it),
<dir>/utt2clean (the clean references, paths or pipes) and, when present, <dir>/utt2snr for the
breakdown by SNR. Writes
  <dir>/per_utt.tsv    one row per utterance: utt, snr, every metric
  <dir>/result.txt     means overall and per SNR bin, for people
  <dir>/scores.json    the overall means (pesq, stoi, estoi, si_sdr, ssnr, csig, cbak, covl),
                       `utterances`, `failed`, and `snr`: {bin: {utterances, metric means}},
                       read by `speechkit results` and `speechkit compare`.
Metrics are speechkit.metrics.enhance's (wide-band PESQ at 16 kHz). A pair that cannot be scored
(a missing, silent or stereo reference, another length or sample rate) is one line on stderr
and left out of the means; the others are still scored, and the exit code is 0 unless none
could be.
"""
import math
import multiprocessing
import sys
from pathlib import Path

import numpy as np

from speechkit import cli as common
from speechkit.errors import SpeechkitError, where
from speechkit.io import atomic_write_text, load_audio, read_dict
from speechkit.metrics.enhance import METRICS, score_pair
from speechkit.metrics.report import write_report


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--nj", type=int, default=1, help="parallel worker processes")
    parser.add_argument("--ref-table", default="utt2clean",
                        help="table of clean references in the dir (default %(default)s)")
    parser.add_argument("dir", help="decode dir with wav.scp and utt2clean")
    return parser


def score_one(job):
    """(utt, {metric: value} or None, error line or None) for one (utt, est, ref) job."""
    utt, est_spec, ref_spec, origin = job
    try:
        if ref_spec is None:
            raise SpeechkitError(f"no clean reference in {origin['ref']}")
        est, est_rate = load_audio(est_spec, where(origin["est"], key=utt), mono_only=False)
        ref, ref_rate = load_audio(ref_spec, where(origin["ref"], key=utt), mono_only=False)
        return utt, score_pair(ref, est, ref_rate, est_rate=est_rate, key=utt), None
    except SpeechkitError as e:
        message = str(e)
        return utt, None, message if message.startswith(utt) else f"{utt}: {message}"


def score_dir(d, nj=1, ref_table="utt2clean"):
    """{utt: scores} of every pair that could be scored, and the error lines of the others."""
    d = Path(d)
    for name in ("wav.scp", ref_table):
        if not (d / name).is_file():
            raise SpeechkitError(f"{d}/{name}: missing; score a dir written by `speechkit "
                                 f"enhance` (wav.scp of outputs plus {ref_table})")
    est, ref = read_dict(d / "wav.scp"), read_dict(d / ref_table)
    origin = {"est": d / "wav.scp", "ref": d / ref_table}
    jobs = [(utt, spec, ref.get(utt), origin) for utt, spec in est.items()]
    if nj > 1 and len(jobs) > 1:
        with multiprocessing.get_context("fork").Pool(min(nj, len(jobs))) as pool:
            results = pool.map(score_one, jobs, chunksize=1)
    else:
        results = [score_one(j) for j in jobs]
    scores = {utt: s for utt, s, _ in results if s is not None}
    errors = [e for _, _, e in results if e is not None]
    return scores, errors


def means(rows):
    return {m: round(float(np.mean([r[m] for r in rows])), 4) for m in METRICS}


def snr_key(value):
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, math.inf, value)


def summarise(scores, snr, failed):
    """The scores.json record: overall means and per-SNR-bin means."""
    record = {**means(list(scores.values())), "utterances": len(scores), "failed": failed}
    bins = {}
    for utt, s in scores.items():
        bins.setdefault(snr.get(utt, "unknown"), []).append(s)
    if snr:
        record["snr"] = {b: {"utterances": len(bins[b]), **means(bins[b])}
                         for b in sorted(bins, key=snr_key)}
    return record


def report_lines(d, record):
    head = f"{'set':<12}{'utts':>6}" + "".join(f"{m:>9}" for m in METRICS)

    def row(name, r):
        return f"{name:<12}{r['utterances']:>6}" + "".join(f"{r[m]:>9.3f}" for m in METRICS)

    lines = [f"{d}: {record['utterances']} utterances scored, {record['failed']} failed", head,
             row("all", record)]
    lines += [row(f"snr {b}", r) for b, r in record.get("snr", {}).items()]
    return lines


def write_per_utt(d, scores, snr):
    rows = ["utt\tsnr\t" + "\t".join(METRICS)]
    rows += [f"{u}\t{snr.get(u, '-')}\t" + "\t".join(f"{s[m]:.4f}" for m in METRICS)
             for u, s in sorted(scores.items())]
    atomic_write_text(Path(d) / "per_utt.tsv", "\n".join(rows) + "\n")


@common.cli("speechkit score-enhance")
def main(argv=None):
    args = get_parser().parse_args(argv)
    if args.nj < 1:
        raise SpeechkitError(f"--nj {args.nj}: give at least 1")
    d = Path(args.dir)
    scores, errors = score_dir(d, args.nj, args.ref_table)
    for line in errors:
        print(f"speechkit score-enhance: warning: {line}", file=sys.stderr)
    if not scores:
        raise SpeechkitError(f"{d}: no utterance could be scored ({len(errors)} failed; see above)")
    snr = read_dict(d / "utt2snr") if (d / "utt2snr").is_file() else {}
    record = summarise(scores, snr, len(errors))
    write_per_utt(d, scores, snr)
    lines = report_lines(d, record)
    write_report(d, lines, record)
    print("\n".join(lines))

"""Accumulate Kaldi CMVN statistics of features, per speaker or global (compute-cmvn-stats).

  speechkit compute-cmvn-stats --spk2utt data/train/spk2utt scp:data/train/feats.scp \\
      ark,scp:data/train/cmvn.ark,data/train/cmvn.scp             one entry per speaker
  speechkit compute-cmvn-stats scp:data/train/feats.scp data/train/global_cmvn
                                                                   one bare matrix (Kaldi's global)
  speechkit compute-cmvn-stats scp:feats.scp ark:cmvn.ark           one entry keyed `global`

Each entry is Kaldi's float64 (2, D+1) matrix: row 0 the sums of the features then the frame
count, row 1 the sums of squares then 0; readable by Kaldi and kaldiio.

Where it differs from Kaldi: without --spk2utt, a table output gets one global entry (named by
--global-key) rather than one entry per utterance; --per-utt gives Kaldi's per-utterance stats.
A speaker none of whose utterances have features is left out with a warning, as in Kaldi.
"""
import logging

import numpy as np

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.features.cmvn import acc_stats, is_specifier, write_stats_file
from speechkit.features.tables import read_spk2utt
from speechkit.io import MatrixWriter, read_matrices

log = logging.getLogger("speechkit.compute_cmvn_stats")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--spk2utt", metavar="FILE",
                       help="per-speaker stats, keyed by speaker (FILE or ark:FILE)")
    group.add_argument("--per-utt", action="store_true",
                       help="per-utterance stats, keyed by utterance")
    parser.add_argument("--global-key", default="global",
                        help="key of the global entry in a table output (default: %(default)s)")
    parser.add_argument("feats_rspecifier", help="features: scp:feats.scp, ark:x.ark or ark:-")
    parser.add_argument("stats_out",
                        help="a wspecifier (ark,scp:cmvn.ark,cmvn.scp, ark:x.ark) for a table, "
                             "or a plain file name for one global matrix")
    return parser


def accumulate(rspecifier, utt2key):
    """{key: stats} over the features, each utterance added to utt2key(utt) (None: skip it)."""
    stats, unlisted = {}, 0
    for utt, feats in read_matrices(rspecifier):
        key = utt2key(utt)
        if key is None:
            unlisted += 1
            continue
        stats[key] = acc_stats(feats, stats.get(key))
    if unlisted:
        log.warning("%d utterances of %s are in no speaker of --spk2utt; ignored", unlisted,
                    rspecifier)
    return stats


def _key_function(args):
    """(utt -> stats key, keys in output order or None for first-seen order)."""
    if args.spk2utt:
        spk2utt = read_spk2utt(args.spk2utt)
        utt2spk = {utt: spk for spk, utts in spk2utt.items() for utt in utts}
        return utt2spk.get, list(spk2utt)
    if args.per_utt:
        return (lambda utt: utt), None
    return (lambda utt: args.global_key), None


@common.cli("speechkit compute-cmvn-stats")
def main(argv=None):
    args = get_parser().parse_args(argv)
    common.setup_logging()
    table_out = is_specifier(args.stats_out)
    if not table_out and (args.spk2utt or args.per_utt):
        raise SpeechkitError(f"'{args.stats_out}': per-speaker or per-utterance stats need a "
                             f"wspecifier, e.g. ark,scp:cmvn.ark,cmvn.scp")
    utt2key, order = _key_function(args)
    stats = accumulate(args.feats_rspecifier, utt2key)
    if not stats:
        raise SpeechkitError(f"{args.feats_rspecifier}: no features to accumulate")
    if not table_out:
        write_stats_file(args.stats_out, stats[args.global_key])
        return
    missing = [k for k in order or () if k not in stats]
    if missing:
        log.warning("no features for %d speakers (e.g. %s); no stats written for them",
                    len(missing), missing[0])
    with MatrixWriter(args.stats_out, dtype=np.float64) as writer:
        for key in (k for k in order or stats if k in stats):
            writer.write(key, stats[key])

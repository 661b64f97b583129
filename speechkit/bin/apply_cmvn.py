"""Apply Kaldi CMVN statistics to features (Kaldi's apply-cmvn).

  speechkit apply-cmvn --utt2spk data/train/utt2spk --norm-vars true scp:data/train/cmvn.scp \\
      scp:data/train/feats.scp ark:-                        per-speaker stats, keyed by speaker
  speechkit apply-cmvn --norm-vars true data/train/global_cmvn scp:feats.scp ark,t:-
                                                             one global stats matrix for all
  speechkit apply-cmvn scp:cmvn_utt.scp scp:feats.scp ark:x.ark   per-utterance stats

The first argument is, as in Kaldi, either an rspecifier of a stats table (scp:/ark:) or a plain
file holding one stats matrix (a bare Kaldi matrix, or an ark of exactly one entry such as the
`global` entry that compute-cmvn-stats writes without --spk2utt). With a table, the key looked up
is the utterance's speaker under --utt2spk, else the utterance itself. An utterance without stats
is an error (Kaldi skips it with a warning) so that no features silently go missing.
"""
from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.features.cmvn import apply_cmvn, is_specifier, open_stats_table, read_stats_file
from speechkit.features.config import parse_bool
from speechkit.features.tables import read_utt2spk
from speechkit.io import MatrixWriter, read_matrices


def _bool(value):
    return parse_bool(value, "--norm-means/--norm-vars")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--utt2spk", metavar="FILE",
                        help="look stats up by speaker (FILE or ark:FILE); needs a stats table")
    parser.add_argument("--norm-means", type=_bool, default=True, metavar="BOOL",
                        help="subtract the mean (default: true)")
    parser.add_argument("--norm-vars", type=_bool, default=False, metavar="BOOL",
                        help="also scale to unit variance (default: false, as Kaldi)")
    parser.add_argument("stats", help="stats table (scp:cmvn.scp, ark:cmvn.ark) or one-matrix file")
    parser.add_argument("feats_rspecifier", help="features: scp:feats.scp, ark:x.ark or ark:-")
    parser.add_argument("feats_wspecifier", help="output: ark,scp:x.ark,x.scp, ark:x.ark, ark:-, ark,t:-")
    return parser


def stats_lookup(stats_arg, utt2spk_arg):
    """utt -> stats matrix, following Kaldi's rules for the stats argument (see the doc)."""
    if not is_specifier(stats_arg):
        if utt2spk_arg:
            raise SpeechkitError(f"--utt2spk needs a stats table (e.g. scp:cmvn.scp), but "
                                 f"'{stats_arg}' is a single stats file")
        single = read_stats_file(stats_arg)
        return lambda utt: single
    table = open_stats_table(stats_arg)
    utt2spk = read_utt2spk(utt2spk_arg) if utt2spk_arg else None

    def lookup(utt):
        if utt2spk is not None and utt not in utt2spk:
            raise SpeechkitError(f"{utt2spk_arg}: no speaker for utterance {utt}")
        key = utt2spk[utt] if utt2spk is not None else utt
        if key not in table:
            hint = "" if utt2spk is not None else (
                "; per-speaker stats need --utt2spk, global stats are given as a plain file")
            raise SpeechkitError(f"{stats_arg}: no stats for key {key} (utterance {utt}){hint}")
        return table[key]
    return lookup


@common.cli("speechkit apply-cmvn")
def main(argv=None):
    args = get_parser().parse_args(argv)
    if args.norm_vars and not args.norm_means:
        raise SpeechkitError("--norm-vars true needs --norm-means true (Kaldi's rule)")
    lookup = stats_lookup(args.stats, args.utt2spk)
    with MatrixWriter(args.feats_wspecifier) as writer:
        for utt, feats in read_matrices(args.feats_rspecifier):
            stats = lookup(utt)
            try:
                out = apply_cmvn(feats, stats, args.norm_means, args.norm_vars)
            except SpeechkitError as e:
                raise SpeechkitError(f"utterance {utt}: {e}") from None
            writer.write(utt, out)

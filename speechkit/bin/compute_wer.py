"""%WER, %CER and %SER of hypotheses against references, like Kaldi's compute-wer.

  speechkit compute-wer [--mode present|all|strict] [--cer] REF HYP
  speechkit compute-wer --cer --out-dir exp/asr/decode_test \\
      --details exp/asr/decode_test/wer_details data/test/text exp/asr/decode_test/text

REF and HYP are Kaldi text tables (`utt word word ...`; a hypothesis may be empty), given as a
path, `ark:path` / `ark,t:path`, or `-` for stdin. Tables need not be sorted; hypotheses
without a reference are ignored, with a warning on stderr. Stdout gets Kaldi's lines:

  %WER 12.34 [ 56 / 454, 10 ins, 20 del, 26 sub ]
  %CER 5.67 [ 123 / 2170, 30 ins, 40 del, 53 sub ]         (with --cer)
  %SER 10.00 [ 2 / 20 ]
  Scored 20 sentences, 0 not present in hyp.

The default mode is `present`, as Kaldi's scoring scripts call compute-wer (the binary's own
default is strict); with missing hypotheses the %WER line ends in [PARTIAL]. CER is over the
characters of each transcript with whitespace removed; see speechkit/metrics/wer.py for that
and for how ties between minimal alignments are broken.

--out-dir writes result.txt (the lines above) and scores.json (rates in percent and the
counts); --details writes per_utt (and per_utt_char with --cer) in the format of Kaldi's
wer_details/per_utt: `utt ref ...`, `utt hyp ...`, `utt op ...` (C S I D), `utt #csid c s i d`.
"""
import sys
from pathlib import Path

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.io.table import atomic_write_text, read_dict, table_path
from speechkit.metrics.report import write_report
from speechkit.metrics.wer import MODES, per_utt_lines, score_corpus

PROG = "speechkit compute-wer"


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--mode", choices=MODES, default="present",
                        help="present: score utterances that have a hypothesis; all: a missing "
                             "one counts as empty; strict: a missing one is an error "
                             "(default: %(default)s)")
    parser.add_argument("--cer", action="store_true", help="also print the %%CER line")
    parser.add_argument("--out-dir", metavar="DIR", help="write DIR/result.txt and DIR/scores.json")
    parser.add_argument("--details", metavar="DIR",
                        help="write per-utterance alignments to DIR/per_utt (and DIR/per_utt_char)")
    parser.add_argument("ref", help="reference text table")
    parser.add_argument("hyp", help="hypothesis text table")
    return parser


def read_text_table(spec, allow_empty=False):
    """{utt: transcript} from a path, `ark[,flags]:path` or `-` (stdin); need not be sorted."""
    return read_dict(table_path(spec), check_sorted=False, allow_empty=allow_empty)


def _as_table(table, allow_empty=False):
    return dict(table) if hasattr(table, "items") else read_text_table(table, allow_empty)


def write_results(result, out_dir=None, details_dir=None):
    """Write result.txt and scores.json to out_dir and the per-utterance files to details_dir."""
    if out_dir is not None:
        write_report(out_dir, result.lines(), result.as_dict())
    if details_dir is not None:
        details_dir = Path(details_dir)
        word_lines = [ln for utt, ali, _ in result.details for ln in per_utt_lines(utt, ali)]
        atomic_write_text(details_dir / "per_utt", "\n".join(word_lines) + "\n")
        if result.chars is not None:
            char_lines = [ln for utt, _, ali in result.details for ln in per_utt_lines(utt, ali)]
            atomic_write_text(details_dir / "per_utt_char", "\n".join(char_lines) + "\n")


def score_tables(ref_table, hyp_table, mode="present", cer=True, out_dir=None,
                 details_dir=None):
    """score() returning the CorpusScore itself (its lines(), details and as_dict())."""
    result = score_corpus(_as_table(ref_table), _as_table(hyp_table, allow_empty=True), mode, cer)
    write_results(result, out_dir, details_dir)
    return result


def score(ref_table, hyp_table, mode="present", cer=True, out_dir=None, details_dir=None):
    """Score a decoding for the ASR recipe: the scores.json record (see CorpusScore.as_dict).

    ref_table and hyp_table are paths (as on the command line) or {utt: transcript} dicts.
    With out_dir, also writes out_dir/result.txt (the %WER/%CER/%SER lines) and
    out_dir/scores.json; with details_dir, the per-utterance alignments.
    """
    return score_tables(ref_table, hyp_table, mode, cer, out_dir, details_dir).as_dict()


@common.cli(PROG)
def main(argv=None):
    args = get_parser().parse_args(argv)
    if all(table_path(spec) == "-" for spec in (args.ref, args.hyp)):
        raise SpeechkitError("only one of REF and HYP can be stdin")
    result = score_tables(args.ref, args.hyp, args.mode, args.cer, args.out_dir, args.details)
    if result.extra:
        print(f"{PROG}: warning: {len(result.extra)} hypotheses have no reference and were "
              f"ignored (e.g. {result.extra[0]})", file=sys.stderr)
    print("\n".join(result.lines()))
    return 0

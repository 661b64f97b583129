"""Kaldi data-dir tools: validate, fix, subset, combine, split, copy, spk2utt conversion.

The utils/*.sh scripts of the recipes are thin entries over these, with Kaldi's arguments:

  validate [--no-feats] [--no-text] [--no-wav] DATA
  fix DATA                                     keeps utterances present in every table
  subset [--first|--last|--shortest|--per-spk] SRC NUM DEST
  subset (--utt-list FILE|--spk-list FILE) SRC DEST
  subset SRC NUM DEST                          NUM utterances evenly spread (Kaldi's choice)

fix backs up the tables it changes in DATA/.backup, or .backup.2, .backup.3, ... when that is
taken, so the originals survive a second run; a run that changes nothing writes nothing.
subset picks exactly the utterances Kaldi's subset_data_dir.sh picks: without an option, those
of utils/subset_scp.pl (halve the list and the number, recursively); with --per-spk N, every
k-th utterance of each speaker for the largest k with N*k <= its utterances (0, 8, 16 of 24 for
N = 3). A NUM larger than the data dir holds is an error, as in Kaldi.
  combine DEST SRC1 SRC2 ...
  split [--per-utt] DATA NUM                   writes DATA/splitNUM/{1..NUM}
  copy [--utt-prefix P] [--spk-prefix P] [--utt-suffix S] [--spk-suffix S] SRC DEST
  utt2spk-to-spk2utt [FILE]                    to stdout
  spk2utt-to-utt2spk [FILE]                    to stdout
"""
import sys

from speechkit import cli as common
from speechkit.data import ops
from speechkit.data.datadir import spk2utt_to_utt2spk, utt2spk_to_spk2utt
from speechkit.data.validate import validate
from speechkit.errors import SpeechkitError
from speechkit.io.table import read_table, sort_keys

PROG = "speechkit data-dir"


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    sub = parser.add_subparsers(dest="op", required=True, metavar="OP")

    p = sub.add_parser("validate", help="check a data dir; every problem on one line")
    p.add_argument("--no-feats", action="store_true", help="do not require feats.scp")
    p.add_argument("--no-text", action="store_true", help="do not require text")
    p.add_argument("--no-wav", action="store_true", help="do not require wav.scp")
    p.add_argument("data")

    p = sub.add_parser("fix", help="keep the utterances present in every table (backup in "
                                   ".backup/, or .backup.N/ when that is taken)")
    p.add_argument("data")

    p = sub.add_parser("subset", help="a subset of utterances in a new data dir")
    how = p.add_mutually_exclusive_group()
    for flag, text in (("--first", "the first NUM utterances"), ("--last", "the last NUM"),
                       ("--shortest", "the NUM shortest (utt2num_frames or utt2dur)"),
                       ("--per-spk", "NUM utterances of each speaker, spread evenly "
                                     "through its list (Kaldi's choice)")):
        how.add_argument(flag, action="store_true", help=text)
    how.add_argument("--utt-list", metavar="FILE", help="utterances listed (first column) in FILE")
    how.add_argument("--spk-list", metavar="FILE", help="speakers listed (first column) in FILE")
    p.add_argument("args", nargs="+", metavar="SRC [NUM] DEST")

    p = sub.add_parser("combine", help="union of data dirs")
    p.add_argument("dest")
    p.add_argument("srcs", nargs="+")

    p = sub.add_parser("split", help="split into DATA/splitNUM/{1..NUM} for parallel jobs")
    p.add_argument("--per-utt", action="store_true",
                   help="split by utterance (default: by speaker, a speaker in one part)")
    p.add_argument("data")
    p.add_argument("num", type=int)

    p = sub.add_parser("copy", help="copy a data dir, optionally renaming utterances/speakers")
    for flag in ("--utt-prefix", "--utt-suffix", "--spk-prefix", "--spk-suffix"):
        p.add_argument(flag, default="", help="string to add to every id")
    p.add_argument("src")
    p.add_argument("dest")

    for name, text in (("utt2spk-to-spk2utt", "utt2spk (file or stdin) to spk2utt on stdout"),
                       ("spk2utt-to-utt2spk", "spk2utt (file or stdin) to utt2spk on stdout")):
        p = sub.add_parser(name, help=text)
        p.add_argument("file", nargs="?", default="-")
    return parser


def _subset(args):
    criteria = {k: getattr(args, k) for k in ("first", "last", "shortest", "per_spk") if getattr(args, k)}
    listed = args.utt_list or args.spk_list
    if listed:
        if len(args.args) != 2:
            raise SpeechkitError("subset --utt-list/--spk-list takes SRC DEST")
        src, dest = args.args
        kw = {"utt_list": args.utt_list} if args.utt_list else {"spk_list": args.spk_list}
    else:
        if len(args.args) != 3:
            raise SpeechkitError("subset takes SRC NUM DEST")
        src, num, dest = args.args
        if not num.isdigit():
            raise SpeechkitError(f"subset: NUM must be a whole number, got '{num}'")
        name = next(iter(criteria), "num")
        kw = {name: int(num)}
    kept, total = ops.subset(src, dest, **kw)
    print(f"subset_data_dir: kept {kept} of {total} utterances in {dest}", file=sys.stderr)


def _convert(path, fn):
    pairs = dict(read_table(path, check_sorted=False, allow_empty=True))
    out = fn(pairs)
    for key in (out if fn is utt2spk_to_spk2utt else sort_keys(out)):
        value = out[key]
        print(key, " ".join(value) if isinstance(value, list) else value)


@common.cli(PROG)
def main(argv=None):
    args = get_parser().parse_args(argv)
    if args.op == "validate":
        problems = validate(args.data, args.no_text, args.no_feats, args.no_wav)
        for p in problems:
            print(f"validate_data_dir: {p}", file=sys.stderr)
        if problems:
            return 1
        print(f"Successfully validated data-directory {args.data}", file=sys.stderr)
    elif args.op == "fix":
        kept, total, backup = ops.fix(args.data)
        saved = f"; the old tables are in {backup}" if backup else "; nothing to change"
        print(f"fix_data_dir: kept {kept} of {total} utterances in {args.data}{saved}",
              file=sys.stderr)
        if kept == 0:
            raise SpeechkitError(f"{args.data}: no utterance is in every table; check the ids")
    elif args.op == "subset":
        _subset(args)
    elif args.op == "combine":
        n = ops.combine(args.dest, args.srcs)
        print(f"combine_data: {n} utterances in {args.dest}", file=sys.stderr)
    elif args.op == "split":
        print(ops.split(args.data, args.num, args.per_utt))
    elif args.op == "copy":
        ops.copy(args.src, args.dest, args.utt_prefix, args.utt_suffix, args.spk_prefix,
                 args.spk_suffix)
    elif args.op == "utt2spk-to-spk2utt":
        _convert(args.file, utt2spk_to_spk2utt)
    else:
        _convert(args.file, spk2utt_to_utt2spk)
    return 0

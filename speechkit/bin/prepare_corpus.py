"""Write Kaldi data dirs (train/dev/test) from a corpus: the embedded one or a downloaded one.

  speechkit prepare-corpus embedded corpus/ data/     after `speechkit synth-corpus corpus/`

Some corpora take options, given as repeated `--opt NAME=VALUE` and passed to the corpus's
preparer as keyword arguments. A value is read as the type of the option's default: numbers,
true/false, or comma-separated lists (`--opt snrs=20,10,0`). An unknown name is an error that
lists the corpus's options and their defaults.

examples:
  speechkit prepare-corpus embedded_kws corpus/commands data/ --opt augment=true --opt seed=3
  speechkit prepare-corpus speech_commands corpus/speech_commands data/ --opt farfield=true
"""
import inspect
import sys

from speechkit import cli as common
from speechkit.corpus import PREPARERS, get_preparer
from speechkit.errors import SpeechkitError

TRUE = ("true", "yes", "on", "1")
FALSE = ("false", "no", "off", "0")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("corpus", help=f"corpus name, one of: {', '.join(sorted(PREPARERS))}")
    parser.add_argument("src", help="the corpus as generated or downloaded and unpacked")
    parser.add_argument("data_root", help="where to write the data dirs (e.g. data/)")
    parser.add_argument("--opt", action="append", default=[], metavar="NAME=VALUE",
                        help="an option of the corpus's preparer (repeatable)")
    return parser


def preparer_options(fn):
    """{name: default} of the keyword options of a preparer (everything after src, data_root)."""
    params = list(inspect.signature(fn).parameters.values())[2:]
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _describe(options):
    if not options:
        return "it takes none"
    shown = [f"{k}={','.join(map(str, v)) if isinstance(v, (tuple, list)) else v}"
             for k, v in options.items()]
    return "its options (with defaults): " + " ".join(shown)


def convert(name, text, default):
    """text -> a value of the type of default (bool, int, float, tuple of those, or str)."""
    def one(value, like):
        if isinstance(like, bool):
            if value.lower() in TRUE:
                return True
            if value.lower() in FALSE:
                return False
            raise ValueError(f"expected true or false, not '{value}'")
        if isinstance(like, int):
            return int(value)
        if isinstance(like, float):
            return float(value)
        return value
    try:
        if isinstance(default, (tuple, list)):
            like = default[0] if default else ""
            items = [v.strip() for v in text.split(",") if v.strip()]
            # A list of ints takes floats too (snrs=7.5): keep whichever the value needs.
            if isinstance(like, int) and not isinstance(like, bool):
                return tuple(float(v) if any(c in v for c in ".eE") else int(v) for v in items)
            return tuple(one(v, like) for v in items)
        return one(text, default)
    except ValueError as e:
        raise SpeechkitError(f"--opt {name}={text}: bad value ({e})") from None


def parse_opts(corpus, fn, opts):
    """['name=value', ...] -> {name: converted value}, checked against the preparer's options."""
    options = preparer_options(fn)
    kwargs = {}
    for opt in opts:
        name, sep, text = opt.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise SpeechkitError(f"--opt {opt}: expected NAME=VALUE")
        if name not in options:
            raise SpeechkitError(f"--opt {opt}: corpus '{corpus}' has no option '{name}'; "
                                 f"{_describe(options)}")
        if name in kwargs:
            raise SpeechkitError(f"--opt {name} given twice")
        kwargs[name] = convert(name, text.strip(), options[name])
    return kwargs


@common.cli("speechkit prepare-corpus")
def main(argv=None):
    args = get_parser().parse_args(argv)
    preparer = get_preparer(args.corpus)
    counts = preparer(args.src, args.data_root, **parse_opts(args.corpus, preparer, args.opt))
    for split, n in counts.items():
        print(f"prepare-corpus: {n} utterances in {args.data_root}/{split}", file=sys.stderr)

"""Speed, volume and far-field perturbation of data dirs (utils/data/perturb_data_dir_*.sh).

  speed FACTOR SRC DEST        a copy with ids prefixed sp<FACTOR>-, audio FACTOR times faster
                               through `speechkit wav-speed` pipes, utt2dur/reco2dur/segments
                               scaled, utt2uniq written; features are not copied
  speed-3way [--always-include-prefix true|false] SRC DEST
                               SRC and its 0.9 and 1.1 copies, combined (Kaldi's 3-way)
  volume [--scale-low L] [--scale-high H] [--reco2vol FILE] [--seed N] DATA
                               in place: `speechkit wav-volume` pipes appended to wav.scp, one
                               random scale per recording (Kaldi's draw), written to reco2vol

  farfield [--prefix rvb1] [--snrs 20:15:10:5:0] [--noise-kinds white:pink:brown:hum]
           [--noise-dir DIR] [--no-noise] [--seed N] SRC DEST
                               a copy heard across a simulated room with background noise (a
                               synthetic kind, or your recordings under DIR such as musan/noise):
                               ids prefixed rvb1-, audio through `speechkit wav-farfield` pipes
  voice [--prefix vc1] [--warp-range 0.88,1.12] [--f0-range -4,4] [--tilt-range -3,3]
        [--telephone-prob 0.2] [--eq-db 6] [--seed N] SRC DEST
                               a copy in other voices, one drawn per speaker (vocal-tract warp,
                               F0 shift in semitones, tilt in dB/octave, random EQ, telephone
                               band): ids prefixed vc1-, audio through `speechkit wav-voice`
                               pipes, the voices in DEST/spk2voice

speed, speed-3way, farfield and voice validate DEST at the end (as Kaldi's, --no-feats --no-text).
volume leaves a dir that is already volume-perturbed unchanged. speechkit.data.perturb lists
the deliberate differences from Kaldi.
"""
import math
import sys
from pathlib import Path

from speechkit import cli as common
from speechkit.corpus import room
from speechkit.data import perturb, voice
from speechkit.data.validate import validate
from speechkit.errors import SpeechkitError

PROG = "speechkit perturb-data-dir"


def _bool(text):
    if text not in ("true", "false"):
        raise ValueError(text)
    return text == "true"


_bool.__name__ = "true|false"  # argparse names the type in its error


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    sub = parser.add_subparsers(dest="op", required=True, metavar="OP")

    p = sub.add_parser("speed", help="speed-perturbed copy of a data dir (sp<FACTOR>- ids)")
    p.add_argument("factor", help="speed factor > 0, e.g. 0.9 or 1.1")
    p.add_argument("src")
    p.add_argument("dest")

    p = sub.add_parser("speed-3way", help="SRC + 0.9 + 1.1 speed copies, combined")
    p.add_argument("--always-include-prefix", type=_bool, default=False, metavar="true|false",
                   help="prefix the unperturbed copy sp1.0- too (default false, as Kaldi)")
    p.add_argument("src")
    p.add_argument("dest")

    p = sub.add_parser("farfield", help="copy heard across a simulated room, with noise")
    p.add_argument("--prefix", default="rvb1", help="id prefix, followed by '-' (rvb1)")
    p.add_argument("--snrs", default="20:15:10:5:0", help="SNRs in dB, one drawn per recording")
    p.add_argument("--noise-kinds", default=":".join(room.SPEECHLESS_KINDS),
                   help=f"synthetic noises to draw from ({':'.join(room.SPEECHLESS_KINDS)})")
    p.add_argument("--noise-dir", metavar="DIR",
                   help="draw the noise from the .wav/.flac recordings under DIR instead")
    p.add_argument("--no-noise", action="store_true", help="reverberation only")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("src")
    p.add_argument("dest")

    p = sub.add_parser("voice", help="copy in other voices, one per speaker (writes spk2voice)")
    p.add_argument("--prefix", default="vc1", help="id prefix, followed by '-' (vc1)")
    p.add_argument("--warp-range", default="0.88,1.12",
                   help="vocal-tract-length factors LO,HI (0.88,1.12; > 1: formants up)")
    p.add_argument("--f0-range", default="-4,4", help="F0 shifts in semitones LO,HI (-4,4)")
    p.add_argument("--tilt-range", default="-3,3", help="spectral tilts in dB/octave LO,HI (-3,3)")
    p.add_argument("--telephone-prob", default="0.2",
                   help="probability that a speaker is heard through a telephone band (0.2)")
    p.add_argument("--eq-db", default="6", help="largest gain of the random EQ in dB (6; 0: none)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("src")
    p.add_argument("dest")

    p = sub.add_parser("volume", help="random volume per recording, in place (writes reco2vol)")
    p.add_argument("--scale-low", default="0.125", help="lowest scale (0.125)")
    p.add_argument("--scale-high", default="2", help="highest scale (2)")
    p.add_argument("--reco2vol", metavar="FILE",
                   help="`<recording> <scale>` lines to use instead of random scales")
    p.add_argument("--seed", type=int, default=0, help="random seed (0, as Kaldi)")
    p.add_argument("data")
    return parser


def _say(name, text):
    print(f"{name}: {text}", file=sys.stderr)


def _validated(dest, name):
    problems = validate(dest, no_text=True, no_feats=True)
    for problem in problems:
        _say(name, problem)
    if not problems:
        _say(name, f"Successfully validated data-directory {dest}")
    return 1 if problems else 0


def _speed(args):
    name = "perturb_data_dir_speed"
    if args.op == "speed":
        n = perturb.speed(args.factor, args.src, args.dest)
        _say(name, f"generated speed-perturbed version of data in {args.src}, in {args.dest} "
                   f"({n} utterances)")
    else:
        name += "_3way"
        n = perturb.speed_3way(args.src, args.dest, args.always_include_prefix)
        _say(name, f"generated 3-way speed-perturbed version of data in {args.src}, in "
                   f"{args.dest} ({n} utterances)")
    if (Path(args.src) / "feats.scp").is_file():
        _say(name, f"{args.src}/feats.scp is not copied: compute features for {args.dest} "
                   f"(utils/make_feats.sh)")
    return _validated(args.dest, name)


def _colon_list(text, option, valid, example):
    """Kaldi's way of giving lists (--foreground-snrs 20:10:15:5:0), each item checked."""
    items = text.split(":")
    for item in items:
        if not valid(item):
            raise SpeechkitError(f"{option} {text}: '{item}' is not valid; give a colon-separated "
                                 f"list such as {option} {example}")
    return items


def _is_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _farfield(args):
    name = "perturb_data_dir_farfield"
    snrs = [] if args.no_noise else _colon_list(args.snrs, "--snrs", _is_number, "20:10:0")
    kinds = _colon_list(args.noise_kinds, "--noise-kinds", room.SPEECHLESS_KINDS.__contains__,
                        ":".join(room.SPEECHLESS_KINDS))
    n = perturb.farfield(args.src, args.dest, args.prefix, snrs, kinds, args.noise_dir, args.seed)
    _say(name, f"generated a far-field version of the data in {args.src}, in {args.dest} "
               f"({n} utterances)")
    return _validated(args.dest, name)


def _number(text, option):
    if not _is_number(text):
        raise SpeechkitError(f"{option} '{text}': must be a number")
    return float(text)


def _voice(args):
    name = "perturb_data_dir_voice"
    n = voice.voice(args.src, args.dest, args.prefix,
                    voice.parse_range(args.warp_range, "--warp-range", positive=True),
                    voice.parse_range(args.f0_range, "--f0-range"),
                    voice.parse_range(args.tilt_range, "--tilt-range"),
                    _number(args.telephone_prob, "--telephone-prob"),
                    _number(args.eq_db, "--eq-db"), args.seed)
    _say(name, f"generated a voice-perturbed version of the data in {args.src}, in {args.dest} "
               f"({n} utterances, voices in {args.dest}/spk2voice)")
    return _validated(args.dest, name)


def _volume(args):
    name = "perturb_data_dir_volume"
    low, high = (perturb.parse_positive(getattr(args, f"scale_{end}"), f"--scale-{end}")
                 for end in ("low", "high"))
    changed, backup = perturb.volume(args.data, low, high, args.reco2vol, args.seed)
    if not changed:
        _say(name, f"{args.data}/wav.scp is already volume-perturbed; not doing anything")
        return 0
    if backup:
        _say(name, f"the features no longer match the audio: moved to {backup}")
    _say(name, f"added volume perturbation to the data in {args.data} ({changed} recordings, "
               f"scales in {args.data}/reco2vol)")
    return 0


RANGE_OPTIONS = ("--warp-range", "--f0-range", "--tilt-range")


def _joined_ranges(argv):
    """`--f0-range -4,4` read as `--f0-range=-4,4`: argparse takes '-4,4' for an option."""
    out = []
    for arg in argv:
        if out and out[-1] in RANGE_OPTIONS:
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


@common.cli(PROG)
def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = get_parser().parse_args(_joined_ranges(argv))
    ops = {"volume": _volume, "farfield": _farfield, "voice": _voice}
    return ops.get(args.op, _speed)(args)

"""Compute Kaldi fbank, MFCC, spectrogram or static PCEN features of a wav.scp into an ark/scp.

  speechkit compute-feats --type fbank --config conf/fbank.yaml [--segments data/train/segments] \\
      [--write-utt2num-frames data/train/utt2num_frames] scp:data/train/wav.scp \\
      ark,scp:feats/raw_fbank_train.1.ark,feats/raw_fbank_train.1.scp
  speechkit compute-feats --type mfcc --num-ceps=20 scp:wav.scp ark:- | speechkit copy-feats ark:- ark,t:-

fbank, mfcc and spectrogram are numerically Kaldi's compute-{fbank,mfcc,spectrogram}-feats; pcen is
librosa.pcen of the fbank energies (speechkit.features.pcen). Any other registered front-end
(`stft`: the compressed STFT magnitude; speechkit.features.frontend) takes its options from
--config alone. The config is YAML with Kaldi's
option names in snake_case (`num_mel_bins: 80`) or a Kaldi .conf (`--num-mel-bins=80`); options
given on the command line override it. Defaults are Kaldi's, except dither: 0.0, so that reruns
give the same features. Every recording must be mono at the config's sample_frequency.

Nothing is written unless every utterance succeeds: a failing utterance is one error line naming
the table and key, and the previous ark/scp stay as they were. Written to a pipe (`ark:-`), a
failure ends the stream with a record that makes the reading command fail too, so that
`compute-feats ... ark:- | copy-feats ark:- ark,scp:...` commits nothing either.

Audio short of what its wav header or its segment promises by less than --max-shortfall seconds
is used with a warning naming the key; more is an error.

--print-config prints the fully resolved options as the typed YAML that utils/make_feats.sh
saves as <data>/feats.yaml (`type: fbank` then every option), and exits.
"""
import logging
import sys

from speechkit import cli as common
from speechkit.errors import SpeechkitError
from speechkit.features import config
from speechkit.features.frontend import FRONTENDS
from speechkit.io import AudioTable
from speechkit.io.audio import MAX_SHORTFALL, wav_scp_path

log = logging.getLogger("speechkit.compute_feats")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--type", default="fbank", choices=sorted(FRONTENDS),
                        help="feature type (default: %(default)s)")
    parser.add_argument("--config", metavar="FILE",
                        help="feature options: YAML (.yaml/.yml) or Kaldi .conf")
    parser.add_argument("--segments", metavar="FILE",
                        help="Kaldi segments file: features of segments of the recordings")
    parser.add_argument("--write-utt2num-frames", metavar="FILE",
                        help="write `<utt> <frames>` lines to FILE (or ark,t:FILE)")
    parser.add_argument("--num-threads", type=int, default=1,
                        help="torch CPU threads (default 1: parallelise with jobs, as Kaldi)")
    parser.add_argument("--max-shortfall", type=float, default=MAX_SHORTFALL, metavar="SECONDS",
                        help="audio shorter than its wav header or segment says by less than "
                             "this is cut with a warning, by more is an error (default "
                             "%(default)s, Kaldi's extract-segments --max-overshoot)")
    parser.add_argument("--print-config", action="store_true",
                        help="print the resolved feature config (typed YAML) and exit")
    group = parser.add_argument_group(
        "feature options", "Kaldi's options (either `--name value` or `--name=value`); they "
        "override --config. Kaldi's defaults per --type, except dither 0.0")
    for name in config.option_names():
        group.add_argument("--" + name.replace("_", "-"), dest=name, metavar="V",
                           help=f"{config.HELP[name]} [{_defaults_text(name)}]")
    parser.add_argument("wav_rspecifier", nargs="?", help="the audio: scp:data/<set>/wav.scp")
    parser.add_argument("feats_wspecifier", nargs="?",
                        help="where to write: ark,scp:X.ark,X.scp, ark:X.ark, ark:- or ark,t:-")
    return parser


def _defaults_text(name):
    """'fbank/mfcc; default 23', or per type where the defaults differ."""
    defaults = {k: str(config.default_options(k)[name]).lower() for k in config.kinds_with(name)}
    if len(set(defaults.values())) == 1:
        return f"{'/'.join(defaults)}; default {next(iter(defaults.values()))}"
    return "default " + ", ".join(f"{k} {v}" for k, v in defaults.items())


def build_frontend(args):
    """The front-end of --type: Kaldi types from defaults, --config and the option flags; other
    types from --config alone."""
    overrides = {n: getattr(args, n) for n in config.option_names() if getattr(args, n) is not None}
    if args.type in config.KINDS:
        options = config.load_config(args.type, args.config, overrides)
        return FRONTENDS.get(args.type)(options, "resolved options")
    if overrides:
        raise SpeechkitError(f"--type {args.type} takes its options from --config only, not "
                             f"--{next(iter(overrides)).replace('_', '-')}")
    options = config.read_config_file(args.config) if args.config else {}
    return FRONTENDS.get(args.type)(options, args.config or "defaults")


@common.cli("speechkit compute-feats")
def main(argv=None):
    parser = get_parser()
    args = parser.parse_args(argv)
    common.setup_logging()
    if args.num_threads < 1:
        raise SpeechkitError(f"--num-threads {args.num_threads}: must be at least 1")
    if args.max_shortfall < 0:
        raise SpeechkitError(f"--max-shortfall {args.max_shortfall:g}: must be >= 0 seconds")
    frontend = build_frontend(args)
    if args.print_config:
        sys.stdout.write(config.typed_yaml(args.type, frontend.options))
        return 0
    if args.feats_wspecifier is None:
        parser.error("the following arguments are required: wav_rspecifier, feats_wspecifier")
    # Imported here so that --print-config (run by make_feats.sh before any job) skips torch.
    import torch
    from speechkit.features.extract import extract_table
    torch.set_num_threads(args.num_threads)
    audio = AudioTable(wav_scp_path(args.wav_rspecifier), args.segments,
                       sample_rate=frontend.sample_rate, max_shortfall=args.max_shortfall)
    frames, skipped = extract_table(frontend, audio, args.feats_wspecifier,
                                    args.write_utt2num_frames)
    log.info("computed %s features of %d utterances (%d frames); %d skipped", args.type,
             len(frames), sum(frames.values()), len(skipped))

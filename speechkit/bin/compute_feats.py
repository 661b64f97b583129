"""Compute Kaldi fbank, MFCC, spectrogram or static PCEN features of a wav.scp into an ark/scp.

  speechkit compute-feats --type fbank --config conf/fbank.yaml [--segments data/train/segments] \\
      [--write-utt2num-frames data/train/utt2num_frames] scp:data/train/wav.scp \\
      ark,scp:feats/raw_fbank_train.1.ark,feats/raw_fbank_train.1.scp
  speechkit compute-feats --type mfcc --num-ceps=20 scp:wav.scp ark:- | speechkit copy-feats ark:- ark,t:-

fbank, mfcc and spectrogram are numerically Kaldi's compute-{fbank,mfcc,spectrogram}-feats; pcen is
librosa.pcen of the fbank energies (speechkit.features.pcen). The config is YAML with Kaldi's
option names in snake_case (`num_mel_bins: 80`) or a Kaldi .conf (`--num-mel-bins=80`); options
given on the command line override it. Defaults are Kaldi's, except dither: 0.0, so that reruns
give the same features. Every recording must be mono at the config's sample_frequency.

Nothing is written unless every utterance succeeds: a failing utterance is one error line naming
the table and key, and the previous ark/scp stay as they were.
"""
import logging

import torch

from speechkit.bin import common
from speechkit.features import config
from speechkit.features.extract import extract_table
from speechkit.io import AudioTable
from speechkit.io.audio import wav_scp_path

log = logging.getLogger("speechkit.compute_feats")


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--type", default="fbank", choices=config.KINDS,
                        help="feature type (default: %(default)s)")
    parser.add_argument("--config", metavar="FILE",
                        help="feature options: YAML (.yaml/.yml) or Kaldi .conf")
    parser.add_argument("--segments", metavar="FILE",
                        help="Kaldi segments file: features of segments of the recordings")
    parser.add_argument("--write-utt2num-frames", metavar="FILE",
                        help="write `<utt> <frames>` lines to FILE (or ark,t:FILE)")
    parser.add_argument("--num-threads", type=int, default=1,
                        help="torch CPU threads (default 1: parallelise with jobs, as Kaldi)")
    group = parser.add_argument_group(
        "feature options", "Kaldi's options (either `--name value` or `--name=value`); they "
        "override --config. Kaldi's defaults per --type, except dither 0.0")
    for name in config.option_names():
        group.add_argument("--" + name.replace("_", "-"), dest=name, metavar="V",
                           help=f"{config.HELP[name]} [{_defaults_text(name)}]")
    parser.add_argument("wav_rspecifier", help="the audio: scp:data/<set>/wav.scp")
    parser.add_argument("feats_wspecifier",
                        help="where to write: ark,scp:X.ark,X.scp, ark:X.ark, ark:- or ark,t:-")
    return parser


def _defaults_text(name):
    """'fbank/mfcc; default 23', or per type where the defaults differ."""
    defaults = {k: str(config.default_options(k)[name]).lower() for k in config.kinds_with(name)}
    if len(set(defaults.values())) == 1:
        return f"{'/'.join(defaults)}; default {next(iter(defaults.values()))}"
    return "default " + ", ".join(f"{k} {v}" for k, v in defaults.items())


@common.cli("speechkit compute-feats")
def main(argv=None):
    args = get_parser().parse_args(argv)
    common.setup_logging()
    torch.set_num_threads(args.num_threads)
    overrides = {n: getattr(args, n) for n in config.option_names() if getattr(args, n) is not None}
    options = config.load_config(args.type, args.config, overrides)
    audio = AudioTable(wav_scp_path(args.wav_rspecifier), args.segments,
                       sample_rate=int(options["sample_frequency"]))
    frames, skipped = extract_table(args.type, options, audio, args.feats_wspecifier,
                                    args.write_utt2num_frames)
    log.info("computed %s features of %d utterances (%d frames); %d skipped", args.type,
             len(frames), sum(frames.values()), len(skipped))

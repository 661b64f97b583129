"""WORLD analysis to mel-cepstrum, log-F0 and band aperiodicity, as three Kaldi feature sets.

Reads the audio of a wav.scp (plain paths or `cmd |` pipes; with --segments, the utterances they
cut out), runs WORLD (F0 by dio+stonemask or harvest, envelope by cheaptrick, aperiodicity by
d4c) and writes one float32 matrix per utterance, frames x dims, to each wspecifier:

  MCEP_WSPEC  mel-cepstrum c0..c{order}            (order+1 columns; 40 with --order 39)
  LF0_WSPEC   natural log of F0, 0 when unvoiced   (1 column; lf0 > 0 exactly on voiced frames)
  BAP_WSPEC   band aperiodicity in dB              (1 column at 16 kHz, 2 at 22.05/24 kHz,
                                                    5 at 44.1/48 kHz)

The three sets have the same keys and frame counts (one frame every --frame-period ms).
The default --alpha is pysptk.util.mcepalpha(sample rate) rounded to 3 decimals (0.41 at 16 kHz;
SPTK's manual table says 0.42). Resynthesis needs the same --alpha, --fft-size and
--frame-period: the resolved values are logged.

example:
  speechkit compute-mcep --write-utt2num-frames data/train/utt2num_frames scp:data/train/wav.scp \\
      ark,scp:mcep/mcep.1.ark,mcep/mcep.1.scp ark,scp:mcep/lf0.1.ark,mcep/lf0.1.scp \\
      ark,scp:mcep/bap.1.ark,mcep/bap.1.scp
"""
import contextlib
import logging

import numpy as np

from speechkit import cli as common
from speechkit.errors import SpeechkitError, where
from speechkit.features.mcep import default_alpha
from speechkit.features.world import F0_METHODS, encode, resolve_fft_size
from speechkit.io import AudioTable, MatrixWriter, parse_wspecifier, write_table
from speechkit.io.audio import wav_scp_path
from speechkit.progress import progress

log = logging.getLogger("speechkit.compute_mcep")


def get_parser():
    p = common.make_parser(__name__, __doc__)
    p.add_argument("wav_rspecifier", metavar="WAV_RSPEC",
                   help="the recordings, as scp:wav.scp")
    p.add_argument("mcep_wspecifier", metavar="MCEP_WSPEC",
                   help="where the mel-cepstra go, e.g. ark,scp:mcep/mcep.1.ark,mcep/mcep.1.scp")
    p.add_argument("lf0_wspecifier", metavar="LF0_WSPEC",
                   help="where log-F0 goes (0 for unvoiced frames), e.g. ark,scp:mcep/lf0.1.ark,...")
    p.add_argument("bap_wspecifier", metavar="BAP_WSPEC",
                   help="where band aperiodicity goes, e.g. ark,scp:mcep/bap.1.ark,...")
    p.add_argument("--segments", metavar="FILE",
                   help="Kaldi segments file: compute features for its utterances, cut from the "
                        "recordings of wav.scp (default: one utterance per recording)")
    p.add_argument("--f0-method", choices=F0_METHODS, default="dio",
                   help="F0 estimator: dio refined by stonemask (fast), or harvest (slower, more "
                        "robust) (default: %(default)s)")
    p.add_argument("--frame-period", type=float, default=5.0, metavar="MS",
                   help="frame shift in milliseconds (default: %(default)s)")
    p.add_argument("--order", type=int, default=39,
                   help="mel-cepstrum order; order+1 coefficients c0..c{order} are written "
                        "(default: %(default)s)")
    p.add_argument("--alpha", type=float, default=None,
                   help="all-pass (frequency warping) constant (default: "
                        "pysptk.util.mcepalpha of the sample rate, 0.41 at 16 kHz)")
    p.add_argument("--fft-size", type=int, default=None, metavar="N",
                   help="cheaptrick/d4c FFT size, a power of two (default: WORLD's smallest size "
                        "for --f0-floor, 1024 at 16 kHz with 71 Hz)")
    p.add_argument("--f0-floor", type=float, default=71.0, metavar="HZ",
                   help="lowest F0 searched (default: %(default)s)")
    p.add_argument("--f0-ceil", type=float, default=800.0, metavar="HZ",
                   help="highest F0 searched (default: %(default)s)")
    p.add_argument("--sample-rate", type=int, default=16000, metavar="HZ",
                   help="sample rate the audio must have; another rate is an error naming the "
                        "recording (default: %(default)s)")
    p.add_argument("--write-utt2num-frames", metavar="FILE",
                   help="also write `<utt> <frames>` lines to FILE (e.g. data/train/utt2num_frames)")
    p.add_argument("--verbose", type=int, default=0, metavar="N",
                   help="log level: 0 info, 1 or more debug (default: %(default)s)")
    return p


def _check_args(args):
    target = wav_scp_path(args.wav_rspecifier)
    specs = [args.mcep_wspecifier, args.lf0_wspecifier, args.bap_wspecifier]
    if sum(parse_wspecifier(s)["ark"] == "-" for s in specs) > 1:
        raise SpeechkitError("at most one of MCEP_WSPEC, LF0_WSPEC, BAP_WSPEC may write to "
                             "stdout (ark:-): their matrices would interleave")
    if args.order < 0 or args.frame_period <= 0 or not 0 < args.f0_floor < args.f0_ceil:
        raise SpeechkitError("need --order >= 0, --frame-period > 0 and "
                             "0 < --f0-floor < --f0-ceil")
    if args.alpha is not None and not -1 < args.alpha < 1:
        raise SpeechkitError(f"--alpha {args.alpha}: the all-pass constant must be in (-1, 1)")
    return target


def _encode_utt(utt, wav, sr, args, origin):
    if len(wav) == 0:
        raise SpeechkitError(f"{where(origin, key=utt)}: empty audio; remove the utterance")
    feats = encode(wav, sr, order=args.order, alpha=args.alpha, frame_period=args.frame_period,
                   f0_method=args.f0_method, f0_floor=args.f0_floor, f0_ceil=args.f0_ceil,
                   fft_size=args.fft_size)
    if not all(np.isfinite(m).all() for m in feats):
        raise SpeechkitError(f"{where(origin, key=utt)}: WORLD analysis gave non-finite values; "
                             f"check the audio")
    return feats


@common.cli("speechkit compute-mcep")
def main(argv=None):
    args = get_parser().parse_args(argv)
    common.setup_logging(args.verbose)
    wav_scp = _check_args(args)
    args.alpha = default_alpha(args.sample_rate) if args.alpha is None else args.alpha
    args.fft_size = resolve_fft_size(args.sample_rate, args.fft_size, args.f0_floor)
    log.info("WORLD %s, frame period %g ms, fft size %d; mcep order %d, alpha %g",
             args.f0_method, args.frame_period, args.fft_size, args.order, args.alpha)
    table = AudioTable(wav_scp, segments=args.segments, sample_rate=args.sample_rate)
    origin = args.segments or wav_scp
    num_frames = {}
    with contextlib.ExitStack() as stack:
        writers = [stack.enter_context(MatrixWriter(s)) for s in
                   (args.mcep_wspecifier, args.lf0_wspecifier, args.bap_wspecifier)]
        for utt, wav, sr in progress(table.items(), desc="compute-mcep", total=len(table)):
            feats = _encode_utt(utt, wav, sr, args, origin)
            for writer, mat in zip(writers, feats):
                writer.write(utt, mat)
            num_frames[utt] = len(feats[0])
    if args.write_utt2num_frames:
        write_table(args.write_utt2num_frames, num_frames)
    log.info("Done %d utterances, %d frames", len(num_frames), sum(num_frames.values()))

"""Generate the embedded synthetic speech corpus (eSpeak NG voices, speaker-disjoint splits).

Writes OUTDIR/wav/<utt>.wav (16-bit PCM mono), OUTDIR/manifest.tsv and
OUTDIR/synth_config.json. The manifest has a header line and one line per utterance, sorted by
utt (LC_ALL=C order), with the columns

  utt speaker split text style voice accent rate pitch range volume duration path

where `path` is relative to OUTDIR (wav/<utt>.wav). Speakers are eSpeak voice variants crossed
with English accents, with their own pitch/rate offsets; speaker ids are s001, s002, ... and
utterance ids <speaker>-<index> (s007-0003), so the speaker id is a prefix of the utterance id.
Train speakers come first, then dev, then test: no test speaker is seen in training.

The same --seed and options give a byte-identical corpus, whatever --nj. A rerun regenerates
everything; the manifest is written last, so its presence means the corpus is complete.

examples:
  speechkit synth-corpus data/synth
  speechkit synth-corpus --num-speakers 40 --dev-speakers 5 --test-speakers 5 \\
      --utts-per-speaker 100 --styles neutral,happy,sad,angry --nj 4 data/synth_emo
"""
from speechkit.bin import common
from speechkit.corpus import profiles, styles, synth


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    defaults = synth.CorpusConfig()
    parser.add_argument("outdir", help="output directory (created if missing)")
    parser.add_argument("--profile", default=defaults.profile,
                        help="text profile, one of: " + ", ".join(sorted(profiles.PROFILES))
                        + " (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help="random seed; everything in the corpus follows from it "
                        "(default: %(default)s)")
    parser.add_argument("--num-speakers", type=int, default=defaults.num_speakers,
                        help="total number of speakers (default: %(default)s)")
    parser.add_argument("--dev-speakers", type=int, default=defaults.dev_speakers,
                        help="how many of them form the dev split (default: %(default)s)")
    parser.add_argument("--test-speakers", type=int, default=defaults.test_speakers,
                        help="how many of them form the test split; the rest are train "
                        "(default: %(default)s)")
    parser.add_argument("--utts-per-speaker", type=int, default=defaults.utts_per_speaker,
                        help="utterances per speaker (default: %(default)s)")
    parser.add_argument("--styles", default=",".join(defaults.styles),
                        help="comma-separated prosody styles, balanced within each speaker, or "
                        f"'{styles.ALL}'; known: " + ", ".join(styles.STYLES)
                        + " (default: %(default)s)")
    parser.add_argument("--sample-rate", type=int, default=defaults.sample_rate,
                        help="output sample rate in Hz (default: %(default)s)")
    parser.add_argument("--nj", type=int, default=None,
                        help="number of parallel jobs; does not change the output "
                        "(default: the number of CPUs)")
    parser.add_argument("--verbose", "-v", action="count", default=0, help="more logging")
    return parser


@common.cli("speechkit synth-corpus")
def main(argv=None):
    args = get_parser().parse_args(argv)
    common.setup_logging(args.verbose)
    cfg = synth.CorpusConfig(
        seed=args.seed, profile=args.profile, num_speakers=args.num_speakers,
        dev_speakers=args.dev_speakers, test_speakers=args.test_speakers,
        utts_per_speaker=args.utts_per_speaker, styles=styles.parse_styles(args.styles),
        sample_rate=args.sample_rate)
    synth.synthesize(cfg, args.outdir, nj=args.nj)

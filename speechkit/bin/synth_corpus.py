"""Generate the embedded synthetic speech corpus (eSpeak NG voices, speaker-disjoint splits).

Writes OUTDIR/wav/<utt>.wav (16-bit PCM mono), OUTDIR/manifest.tsv and
OUTDIR/synth_config.json. The manifest has a header line and one line per utterance, sorted by
utt (LC_ALL=C order), with the columns

  utt speaker split text style voice accent rate pitch range volume duration path

where `path` is relative to OUTDIR (wav/<utt>.wav). Speakers are eSpeak voice variants crossed
with English accents, with their own pitch/rate offsets; speaker ids are s001, s002, ... and
utterance ids <speaker>-<index> (s007-0003), so the speaker id is a prefix of the utterance id.
Train speakers come first, then dev, then test: no test speaker is seen in training.

Prosody: each utterance's style is pulled towards neutral by a strength drawn from
--style-strength (0 neutral, 1 the style as tabled), then gets its speaker's offsets and some
per-utterance jitter (--pitch-jitter, --rate-jitter, --volume-jitter). Weaker styles and more
jitter make the styles overlap, so emotion recognition on them is harder.

Recording: eSpeak starts speaking at its first sample and its pauses are digital zeros, which no
microphone gives; --lead-silence puts silence before the speech and --noise-floor white noise
under the whole utterance (an asr model trained without them inserted words into the leading
silence of other synthesizers' speech: egs/asr/RESULTS.md).

Voices: a speaker is one of eSpeak's ~100 preset variants crossed with an accent; with
--variant-jitter every speaker gets a variant of its own, its preset with the formants (a
vocal-tract length), roughness, flutter, voicing and breath drawn (docs/augmentation/voice.md).

The defaults make the corpus these options did not yet exist for, byte for byte.

The same --seed and options give a byte-identical corpus, whatever --nj. A rerun regenerates
everything (with --skip-if-made, only when OUTDIR's corpus was made with other options or is
incomplete); the manifest is written last, so its presence means the corpus is complete.

examples:
  speechkit synth-corpus data/synth
  speechkit synth-corpus --num-speakers 40 --dev-speakers 5 --test-speakers 5 \\
      --utts-per-speaker 100 --styles neutral,happy,sad,angry --nj 4 data/synth_emo
  speechkit synth-corpus --profile sentences --styles neutral,happy,sad,angry \\
      --style-strength 0.4,1 --volume-jitter 0.2 corpus/emotion
  speechkit synth-corpus --profile sentences --parallel-texts 4 corpus/mcep   (parallel pairs)
"""
import sys

from speechkit import cli as common
from speechkit.corpus import profiles, styles, synth
from speechkit.errors import SpeechkitError


def float_range(text, option="--style-strength", example="0.4,1"):
    """'0.4,1' -> (0.4, 1.0); one number 'S' -> (S, S); '' -> () (none)."""
    if not text:
        return ()
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) not in (1, 2):
        raise SpeechkitError(f"{option} {text}: expected LO,HI (e.g. {example}) or one number")
    return values if len(values) == 2 else values * 2


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
    parser.add_argument("--style-strength", default="{:g},{:g}".format(*defaults.style_strength),
                        metavar="LO,HI", help="per-utterance style strength, drawn uniformly "
                        "from LO..HI: 0 is neutral, 1 the style as tabled, up to 2 "
                        "(default: %(default)s)")
    parser.add_argument("--pitch-jitter", type=int, default=defaults.pitch_jitter,
                        help="per-utterance pitch jitter, +- eSpeak pitch units "
                        "(default: %(default)s)")
    parser.add_argument("--rate-jitter", type=float, default=defaults.rate_jitter,
                        help="per-utterance rate jitter, a relative +- (default: %(default)s)")
    parser.add_argument("--volume-jitter", type=float, default=defaults.volume_jitter,
                        help="per-utterance volume jitter, a relative +- (default: %(default)s)")
    parser.add_argument("--parallel-texts", type=int, default=defaults.parallel_texts, metavar="N",
                        help="parallel data: every speaker also reads the same N sentences (its "
                        "first N utterances, in an order of its own); 0 leaves the corpus as "
                        "without this option (default: %(default)s)")
    parser.add_argument("--lead-silence", default="{:g},{:g}".format(*defaults.lead_silence),
                        metavar="LO,HI", help="seconds of silence before each utterance's "
                        "speech, drawn uniformly from LO..HI (default: %(default)s)")
    parser.add_argument("--noise-floor", default="", metavar="LO,HI",
                        help="white noise under each utterance at an SNR drawn uniformly from "
                        "LO..HI dB, as a microphone's noise floor (default: none)")
    parser.add_argument("--variant-jitter", type=float, default=defaults.variant_jitter,
                        metavar="X", help="every speaker its own eSpeak variant: the preset's "
                        "formant frequencies, heights and widths, roughness, flutter, voicing "
                        "and breath drawn by up to X (0..1) of their ranges; the variant files "
                        "are kept in OUTDIR/variants (default: %(default)s, the presets)")
    parser.add_argument("--nj", type=int, default=None,
                        help="number of parallel jobs; does not change the output "
                        "(default: the number of CPUs)")
    parser.add_argument("--skip-if-made", action="store_true",
                        help="do nothing when OUTDIR already holds a complete corpus made with "
                        "these options (its synth_config.json); any other corpus there is "
                        "replaced")
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
        sample_rate=args.sample_rate, style_strength=float_range(args.style_strength),
        pitch_jitter=args.pitch_jitter, rate_jitter=args.rate_jitter,
        volume_jitter=args.volume_jitter, parallel_texts=args.parallel_texts,
        lead_silence=float_range(args.lead_silence, "--lead-silence", "0,0.5") or (0.0, 0.0),
        noise_floor=float_range(args.noise_floor, "--noise-floor", "30,50"),
        variant_jitter=args.variant_jitter)
    if args.skip_if_made and synth.is_made(cfg, args.outdir):
        print(f"{args.outdir}: already made with these options, kept", file=sys.stderr)
        return
    synth.synthesize(cfg, args.outdir, nj=args.nj)

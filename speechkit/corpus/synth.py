"""The embedded synthetic corpus: speakers, the plan of every utterance, parallel synthesis.

Determinism. Everything an utterance needs (text, voice, prosody, eSpeak's noise seed) is
planned up front from the corpus seed alone, and the plan is cut into fixed shards (runs of at
most SHARD_SIZE utterances of one speaker) that do not depend on --nj. eSpeak keeps state
between utterances (the voice flutter phase, the wave generator's phase, a clock-seeded random
generator), so the audio of an utterance depends on what the process synthesised before it.
Each worker is therefore a fresh 'spawn' process that initialises eSpeak once and forks a child
per shard: every shard starts from the same library state, sets eSpeak's generator from each
utterance's own seed, and so comes out byte-identical whichever worker, job count or order ran it.
"""
import json
import logging
import multiprocessing
import os
import random
import shutil
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, replace

import numpy as np
import soundfile
import soxr

from speechkit.corpus import espeak, espeak_variants, manifest, profiles, styles
from speechkit.corpus.profiles import randint, shuffled
from speechkit.errors import SpeechkitError
from speechkit.progress import progress

log = logging.getLogger(__name__)

# English language voices of eSpeak NG (en-shaw, the Shavian script, reads no Latin text).
ACCENTS = ("en", "en-029", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-gb-x-rp",
           "en-us", "en-us-nyc")
SPLITS = ("train", "dev", "test")
# A speaker's own offsets from a style: pitch and range in eSpeak units, rate as a factor.
SPEAKER_PITCH_OFFSET = 15
SPEAKER_RANGE_OFFSET = 10
SPEAKER_RATE_SCALE = (0.85, 1.15)
# Small per-utterance jitter so that one speaker's utterances are not all alike (defaults of
# CorpusConfig.pitch_jitter and .rate_jitter).
UTT_PITCH_JITTER = 3
UTT_RATE_JITTER = 0.05
# Louder than the loudest style clips eSpeak's output on loud voices (styles.py): strengths
# above 1 and volume jitter stop there.
MAX_VOLUME = max(s.volume for s in styles.STYLES.values())
# Options added after the first corpora were made: synth_config.json names them only when they
# differ from these defaults, so that a corpus made without them stays byte-identical.
OPTIONAL_DEFAULTS = {"style_strength": (1.0, 1.0), "pitch_jitter": UTT_PITCH_JITTER,
                     "rate_jitter": UTT_RATE_JITTER, "volume_jitter": 0.0,
                     "parallel_texts": 0, "lead_silence": (0.0, 0.0), "noise_floor": (),
                     "variant_jitter": 0.0}
WAV_DIR = "wav"
VARIANT_DIR = "variants"  # the speakers' own eSpeak variant files, with variant_jitter
MANIFEST = "manifest.tsv"
CONFIG = "synth_config.json"
# Utterances synthesised in one process one after another. An utterance's audio depends on the
# ones before it in its shard (eSpeak's state), so this is part of the corpus definition.
SHARD_SIZE = 50


@dataclass(frozen=True)
class CorpusConfig:
    """Everything the corpus depends on (the number of jobs is not part of it).

    Prosody of an utterance: its style pulled towards neutral by a strength drawn uniformly
    from `style_strength` (0 is neutral, 1 the style as tabled, above 1 exaggerated), then the
    speaker's offsets, then per-utterance jitter: pitch +-pitch_jitter eSpeak units, rate and
    volume times 1 +- rate_jitter / volume_jitter (volume capped at MAX_VOLUME, the loudest
    style's, above which eSpeak clips). Weaker styles and more jitter make the styles
    overlap more (harder emotion recognition); the defaults are the corpus as first made.
    """
    seed: int = 0
    profile: str = "digits"
    num_speakers: int = 32
    dev_speakers: int = 4
    test_speakers: int = 4
    utts_per_speaker: int = 50
    styles: tuple = ("neutral",)
    sample_rate: int = 16000
    style_strength: tuple = OPTIONAL_DEFAULTS["style_strength"]
    pitch_jitter: int = OPTIONAL_DEFAULTS["pitch_jitter"]
    rate_jitter: float = OPTIONAL_DEFAULTS["rate_jitter"]
    volume_jitter: float = OPTIONAL_DEFAULTS["volume_jitter"]
    # Parallel data: every speaker also reads the same `parallel_texts` sentences (0: none).
    parallel_texts: int = OPTIONAL_DEFAULTS["parallel_texts"]
    # As if recorded: silence before the speech, drawn from LO..HI seconds (eSpeak starts
    # speaking at its first sample, which no microphone does), and white noise under the whole
    # utterance at an SNR drawn from LO..HI dB (eSpeak's pauses are digital zeros; () for none).
    lead_silence: tuple = OPTIONAL_DEFAULTS["lead_silence"]
    noise_floor: tuple = OPTIONAL_DEFAULTS["noise_floor"]
    # Every speaker its own eSpeak variant: its preset's formants, roughness, flutter, voicing
    # and breath drawn by up to this fraction of their range (espeak_variants; 0: the preset).
    variant_jitter: float = OPTIONAL_DEFAULTS["variant_jitter"]

    def validate(self):
        profiles.get_profile(self.profile)
        _check(len(self.styles) > 0, "no styles given")
        for name in self.styles:
            styles.get_style(name)
        _check(self.num_speakers >= 1, f"--num-speakers must be >= 1, not {self.num_speakers}")
        _check(self.dev_speakers >= 0 and self.test_speakers >= 0,
               "--dev-speakers and --test-speakers must be >= 0")
        _check(self.dev_speakers + self.test_speakers <= self.num_speakers,
               f"--dev-speakers {self.dev_speakers} + --test-speakers {self.test_speakers} "
               f"exceed --num-speakers {self.num_speakers}")
        _check(self.utts_per_speaker >= 1,
               f"--utts-per-speaker must be >= 1, not {self.utts_per_speaker}")
        _check(8000 <= self.sample_rate <= 48000,
               f"--sample-rate must be within 8000..48000 Hz, not {self.sample_rate}")
        self._validate_prosody()
        self._validate_recording()
        _check(0 <= self.parallel_texts <= self.utts_per_speaker,
               f"--parallel-texts must be within 0..--utts-per-speaker "
               f"({self.utts_per_speaker}), not {self.parallel_texts}")

    def _validate_prosody(self):
        strength = tuple(self.style_strength)
        _check(len(strength) == 2 and 0 <= strength[0] <= strength[1] <= 2,
               f"--style-strength must be LO,HI with 0 <= LO <= HI <= 2, not "
               f"{','.join(map(str, strength))}")
        _check(isinstance(self.pitch_jitter, int) and 0 <= self.pitch_jitter <= 50,
               f"--pitch-jitter must be an integer within 0..50, not {self.pitch_jitter}")
        for name in ("rate_jitter", "volume_jitter"):
            value = getattr(self, name)
            _check(0 <= value < 1, f"--{name.replace('_', '-')} must be within [0, 1), "
                   f"not {value}")

    def _validate_recording(self):
        lead, floor = tuple(self.lead_silence), tuple(self.noise_floor)
        _check(len(lead) == 2 and 0 <= lead[0] <= lead[1] <= 5,
               f"--lead-silence must be LO,HI seconds with 0 <= LO <= HI <= 5, not "
               f"{','.join(map(str, lead))}")
        _check(not floor or (len(floor) == 2 and 10 <= floor[0] <= floor[1] <= 90),
               f"--noise-floor must be LO,HI dB SNR with 10 <= LO <= HI <= 90, not "
               f"{','.join(map(str, floor))}")
        _check(0 <= self.variant_jitter <= 1,
               f"--variant-jitter must be within 0..1, not {self.variant_jitter}")

    @property
    def train_speakers(self):
        return self.num_speakers - self.dev_speakers - self.test_speakers


def _check(ok, message):
    if not ok:
        raise SpeechkitError(message)


@dataclass(frozen=True)
class Speaker:
    id: str
    split: str
    voice: str         # eSpeak variant
    accent: str        # eSpeak language voice
    pitch_offset: int
    range_offset: int
    rate_scale: float


@dataclass(frozen=True)
class Utterance:
    utt: str
    speaker: str
    split: str
    text: str          # transcript
    spoken: str        # what eSpeak reads
    style: str
    voice: str
    accent: str
    rate: int
    pitch: int
    range: int
    volume: int
    noise_seed: int    # eSpeak's random generator, seeded per utterance
    lead: float = 0.0              # seconds of silence before the speech
    floor_snr: float | None = None  # SNR of the white noise floor in dB (None: none)
    floor_seed: int = 0
    variant: str = ""              # the speaker's own eSpeak variant ("": the preset `voice`)

    @property
    def path(self):
        return f"{WAV_DIR}/{self.utt}.wav"


def _clip(value, name):
    lo, hi = espeak.PARAMETER_LIMITS[name]
    return max(lo, min(hi, value))


def _rng(cfg, *what):
    # String seeds go through sha512: stable across Python versions and independent streams.
    return random.Random("/".join(["speechkit-synth", str(cfg.seed), *what]))


def _voices(rng, n):
    """n distinct (variant, accent) pairs: all variants are used before any is used twice."""
    variants = shuffled(rng, espeak.list_variants())
    accent_orders = [shuffled(rng, ACCENTS) for _ in variants]
    most = len(variants) * len(ACCENTS)
    _check(n <= most, f"--num-speakers {n} exceeds the {most} eSpeak voice/accent pairs")
    return [(variants[i % len(variants)], accent_orders[i % len(variants)][i // len(variants)])
            for i in range(n)]


def make_speakers(cfg):
    """The speaker table: ids s001.. in order, train speakers first, then dev, then test."""
    rng = _rng(cfg, "speakers")
    width = max(3, len(str(cfg.num_speakers)))
    splits = (["train"] * cfg.train_speakers + ["dev"] * cfg.dev_speakers
              + ["test"] * cfg.test_speakers)
    lo, hi = SPEAKER_RATE_SCALE
    return [Speaker(id=f"s{i + 1:0{width}d}", split=split, voice=voice, accent=accent,
                    pitch_offset=randint(rng, -SPEAKER_PITCH_OFFSET, SPEAKER_PITCH_OFFSET),
                    range_offset=randint(rng, -SPEAKER_RANGE_OFFSET, SPEAKER_RANGE_OFFSET),
                    rate_scale=round(lo + (hi - lo) * rng.random(), 3))
            for i, (split, (voice, accent)) in enumerate(zip(splits, _voices(rng, len(splits))))]


def _style_sequence(cfg, speaker):
    """Styles of one speaker's utterances: balanced, in a shuffled order."""
    rng = _rng(cfg, speaker.id, "styles")
    seq = []
    while len(seq) < cfg.utts_per_speaker:
        seq += shuffled(rng, cfg.styles)
    return seq[:cfg.utts_per_speaker]


def _check_text(utt, text):
    if not text.strip() or any(c in text for c in "\t\r\n"):
        raise ValueError(f"profile produced an empty text or one with tabs/newlines for {utt}")


def weakened(style, strength):
    """{rate, pitch, range, volume} of `style` pulled towards neutral (strength 0: neutral)."""
    neutral = styles.get_style("neutral")
    return {name: getattr(neutral, name) + strength * (getattr(style, name) - getattr(neutral, name))
            for name in espeak.PARAMETERS}


def _plan_utt(cfg, profile, speaker, utt, style_name):
    rng = _rng(cfg, utt)
    spoken, text = profile(rng)
    _check_text(utt, text)
    style = styles.get_style(style_name)
    jitter = 1 + cfg.rate_jitter * (2 * rng.random() - 1)
    # Strength and volume draw from a stream of their own: the draws above and the noise seed
    # stay what they were before these options existed. With the defaults (strength exactly 1,
    # no volume jitter) every value below equals the tabled style's.
    extra = _rng(cfg, utt, "strength")
    prosody = weakened(style, uniform(extra, *cfg.style_strength))
    loudness = 1 + cfg.volume_jitter * (2 * extra.random() - 1)
    # The recording options draw from a third stream, for the same reason.
    rec = _rng(cfg, utt, "recording")
    lead = round(uniform(rec, *cfg.lead_silence), 3)
    floor_snr = round(uniform(rec, *cfg.noise_floor), 1) if cfg.noise_floor else None
    return Utterance(
        utt=utt, speaker=speaker.id, split=speaker.split, text=text, spoken=spoken,
        style=style.name, voice=speaker.voice, accent=speaker.accent,
        rate=_clip(round(prosody["rate"] * speaker.rate_scale * jitter), "rate"),
        pitch=_clip(round(prosody["pitch"]) + speaker.pitch_offset
                    + randint(rng, -cfg.pitch_jitter, cfg.pitch_jitter), "pitch"),
        range=_clip(round(prosody["range"]) + speaker.range_offset, "range"),
        volume=_clip(min(MAX_VOLUME, round(prosody["volume"] * loudness)), "volume"),
        noise_seed=randint(rng, 1, 2**31 - 1), lead=lead, floor_snr=floor_snr,
        floor_seed=randint(rec, 1, 2**31 - 1),
        variant=own_variant(speaker) if cfg.variant_jitter else "")


def own_variant(speaker):
    return f"sk_{speaker.id}"


def speaker_variants(cfg):
    """{variant name: variant file text} of every speaker's own eSpeak variant."""
    out = {}
    for speaker in make_speakers(cfg):
        with open(os.path.join(espeak.data_path(), "voices", "!v", speaker.voice),
                  encoding="utf-8") as f:
            preset = f.read()
        out[own_variant(speaker)] = espeak_variants.jittered(
            preset, own_variant(speaker), _rng(cfg, speaker.id, "variant"), cfg.variant_jitter)
    return out


def uniform(rng, lo, hi):
    return lo + (hi - lo) * rng.random()


def parallel_pool(cfg, profile):
    """The `parallel_texts` distinct (spoken, transcript) pairs every speaker reads."""
    rng = _rng(cfg, "parallel-texts")
    pool, seen = [], set()
    for _ in range(100 * cfg.parallel_texts):
        if len(pool) == cfg.parallel_texts:
            break
        spoken, text = profile(rng)
        if text not in seen:
            seen.add(text)
            pool.append((spoken, text))
    _check(len(pool) == cfg.parallel_texts, f"--parallel-texts {cfg.parallel_texts}: profile "
           f"'{cfg.profile}' gave only {len(pool)} distinct texts")
    return pool


def plan(cfg):
    """Every utterance with all its parameters, sorted by utt; a function of cfg only.

    With parallel_texts N, a speaker's first N utterances read the shared pool (in an order of
    the speaker's own) instead of their own text; every other draw stays as without it.
    """
    cfg.validate()
    profile = profiles.get_profile(cfg.profile)
    width = max(4, len(str(cfg.utts_per_speaker - 1)))
    pool = parallel_pool(cfg, profile) if cfg.parallel_texts else []
    utts = []
    for speaker in make_speakers(cfg):
        shared = shuffled(_rng(cfg, speaker.id, "parallel-texts"), pool)
        for i, style in enumerate(_style_sequence(cfg, speaker)):
            utt = _plan_utt(cfg, profile, speaker, f"{speaker.id}-{i:0{width}d}", style)
            if i < len(shared):
                utt = replace(utt, spoken=shared[i][0], text=shared[i][1])
            utts.append(utt)
    return sorted(utts, key=lambda u: u.utt)


# ---- workers (each a fresh 'spawn' process) ----

_ENGINE = None


def _init_worker(data=None):
    global _ENGINE
    _ENGINE = espeak.Espeak(seed=1, data=data)
    # Load the English dictionary once here rather than in every forked child.
    _ENGINE.set_voice("en")


def synth_utt(engine, utt):
    """int16 samples of utt at engine.sample_rate (the voice must already be set)."""
    for name in espeak.PARAMETERS:
        engine.set_parameter(name, getattr(utt, name))
    engine.set_rand_seed(utt.noise_seed)
    audio = engine.synth(utt.spoken)
    if not len(audio):
        raise RuntimeError(f"eSpeak produced no audio for {utt.utt} ({utt.spoken!r})")
    return audio


def to_int16(audio, from_rate, to_rate):
    """Resample int16 audio with soxr in float (soxr's int16 output would dither randomly)."""
    x = audio.astype(np.float32) / 32768
    if from_rate != to_rate:
        x = soxr.resample(x, from_rate, to_rate, quality="HQ")
    return np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)


def as_recorded(audio, utt, sample_rate):
    """int16 audio with the utterance's leading silence and noise floor (unchanged without)."""
    if not utt.lead and utt.floor_snr is None:
        return audio
    x = np.concatenate([np.zeros(round(utt.lead * sample_rate)), audio.astype(np.float64)])
    if utt.floor_snr is not None:
        rms = np.sqrt(np.mean(np.square(audio.astype(np.float64))))
        noise = np.random.default_rng(utt.floor_seed).standard_normal(len(x))
        x += noise * rms * 10 ** (-utt.floor_snr / 20)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _write_wav(path, samples, sample_rate):
    tmp = f"{path}.tmp"
    soundfile.write(tmp, samples, sample_rate, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)  # a wav on disk is always complete


def _synth_shard_here(engine, shard, outdir, sample_rate):
    """Synthesise one shard (utterances of one speaker) in this process; [(utt, num_samples)]."""
    engine.set_voice(shard[0].accent, shard[0].variant or shard[0].voice)
    done = []
    for utt in shard:
        audio = as_recorded(to_int16(synth_utt(engine, utt), engine.sample_rate, sample_rate),
                            utt, sample_rate)
        _write_wav(os.path.join(outdir, utt.path), audio, sample_rate)
        done.append((utt.utt, len(audio)))
    return done


def _child(job, write_fd):
    """Runs in the forked child: do the shard, report, exit without returning."""
    code = 1
    try:
        done = _synth_shard_here(_ENGINE, *job)
        with os.fdopen(write_fd, "w") as f:
            f.writelines(f"{utt} {n}\n" for utt, n in done)
        code = 0
    except BaseException:  # noqa: B036 - a forked child must never unwind into the worker loop
        traceback.print_exc()
    finally:
        os._exit(code)


def _synth_shard(job):
    """Worker task: synthesise a shard in a fork, so it starts from the worker's pristine state."""
    shard = job[0]
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(job, write_fd)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        lines = f.read().splitlines()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"synthesis of {shard[0].utt}..{shard[-1].utt} failed (exit code "
                           f"{os.waitstatus_to_exitcode(status)}); its traceback is above")
    return [(utt, int(n)) for utt, n in (line.split() for line in lines)]


def make_shards(utts):
    """Consecutive utterances of one speaker, at most SHARD_SIZE: fixed by the plan, not by nj."""
    shards = []
    for utt in utts:
        if not shards or shards[-1][0].speaker != utt.speaker or len(shards[-1]) == SHARD_SIZE:
            shards.append([])
        shards[-1].append(utt)
    return shards


# ---- the parent ----

def default_nj():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _run_workers(utts, outdir, sample_rate, nj, data=None):
    """{utt: num_samples}, synthesised by nj spawned workers (eSpeak data from `data`)."""
    jobs = [(shard, outdir, sample_rate) for shard in make_shards(utts)]
    nj = max(1, min(nj, len(jobs)))
    num_samples = {}
    ctx = multiprocessing.get_context("spawn")
    with progress(total=len(utts), desc="synth-corpus") as bar, \
            ctx.Pool(nj, initializer=_init_worker, initargs=(data,)) as pool:
        for done in pool.imap_unordered(_synth_shard, jobs):
            num_samples.update(done)
            bar.update(len(done))
    return num_samples


def _prepare_outdir(outdir):
    # Without its manifest a corpus dir reads as unfinished: drop it before touching any wav.
    os.makedirs(os.path.join(outdir, WAV_DIR), exist_ok=True)
    for name in (MANIFEST, CONFIG):
        if os.path.exists(os.path.join(outdir, name)):
            os.remove(os.path.join(outdir, name))
    # An earlier run's own variants are not this corpus's (it may have none).
    shutil.rmtree(os.path.join(outdir, VARIANT_DIR), ignore_errors=True)


def _remove_stale(outdir, utts):
    """Remove wavs (and temp files) of an earlier run that are not in this corpus."""
    keep = {os.path.basename(u.path) for u in utts}
    wavdir = os.path.join(outdir, WAV_DIR)
    stale = [n for n in os.listdir(wavdir)
             if (n.endswith(".wav") or n.endswith(".tmp")) and n not in keep]
    for name in stale:
        os.remove(os.path.join(wavdir, name))
    if stale:
        log.info("removed %d wav/temp files of an earlier run from %s", len(stale), wavdir)


def _manifest_row(utt, num_samples, sample_rate):
    row = {k: v for k, v in asdict(utt).items() if k in manifest.COLUMNS}
    row.update(duration=num_samples / sample_rate, path=utt.path)
    return row


def config_dict(cfg):
    """The config as synth_config.json holds it: later options only where not their default."""
    conf = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()}
    for name, default in OPTIONAL_DEFAULTS.items():
        if conf[name] == (list(default) if isinstance(default, tuple) else default):
            del conf[name]
    return conf


def _write_config(outdir, cfg, num_utts):
    conf = dict(config_dict(cfg), num_utts=num_utts)
    tmp = os.path.join(outdir, CONFIG + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(conf, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(outdir, CONFIG))


def is_made(cfg, outdir):
    """Whether outdir holds a complete corpus of exactly this config (the manifest is last)."""
    conf_path = os.path.join(outdir, CONFIG)
    if not (os.path.isfile(os.path.join(outdir, MANIFEST)) and os.path.isfile(conf_path)):
        return False
    with open(conf_path, encoding="utf-8") as f:
        made = json.load(f)
    made.pop("num_utts", None)
    return made == json.loads(json.dumps(config_dict(cfg)))


def _own_variants(cfg, outdir, tmp):
    """Write the speakers' variants to outdir/variants (the record) and an eSpeak data folder
    in tmp that has them; returns that folder."""
    variants = speaker_variants(cfg)
    folder = os.path.join(outdir, VARIANT_DIR)
    os.makedirs(folder, exist_ok=True)
    for name, text in variants.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)
    return espeak_variants.data_with_variants(espeak.data_path(), tmp, variants)


def synthesize(cfg, outdir, nj=None):
    """Generate the corpus into outdir (wav/, manifest.tsv, synth_config.json); returns the rows.

    A rerun (e.g. after an interruption) regenerates every file; the manifest is written last,
    so its presence means the corpus is complete.
    """
    utts = plan(cfg)
    nj = default_nj() if nj is None else nj
    _check(nj >= 1, f"--nj must be >= 1, not {nj}")
    _prepare_outdir(outdir)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="speechkit-espeak-") as tmp:
        data = _own_variants(cfg, outdir, tmp) if cfg.variant_jitter else None
        num_samples = _run_workers(utts, outdir, cfg.sample_rate, nj, data)
    elapsed = time.perf_counter() - start
    _remove_stale(outdir, utts)
    rows = [_manifest_row(u, num_samples[u.utt], cfg.sample_rate) for u in utts]
    _write_config(outdir, cfg, len(rows))
    manifest.write_manifest(os.path.join(outdir, MANIFEST), rows)
    hours = sum(r["duration"] for r in rows) / 3600
    log.info("synthesised %d utterances (%.2f h) in %.1f s with %d jobs: %.0f utts/s",
             len(rows), hours, elapsed, nj, len(rows) / max(elapsed, 1e-9))
    return rows

"""Far-field simulation: a clip as heard by a microphone across a room, plus background noise.

    out, info = farfield(wav, 16000, np.random.default_rng(seed), snr_db=10)

Room. A random shoebox (ROOM_DIMS_RANGE: 3-8 m x 3-8 m x 2.5-3.5 m) whose walls share one
energy absorption coefficient, chosen with Sabine's formula (`pyroomacoustics.inverse_sabine`)
for an RT60 drawn uniformly in RT60_RANGE (0.2-0.8 s). The microphone stands 0.7-1.3 m high
(a device on a table), the talker's mouth 1.1-1.8 m high, both at least WALL_MARGIN from every
wall, at a distance drawn uniformly in DISTANCE_RANGE (1-5 m); a room too small for the drawn
distance is drawn again, so long distances come with larger rooms. The RIR is the image-source
model of pyroomacoustics with the reflection order capped at MAX_ORDER (40): that keeps a
room under ~0.1 s where the full order (up to ~140 for a small room at 0.8 s) takes up to 2 s,
and on 40 random rooms it changed the measured decay time by less than the image-source model
itself deviates from Sabine's prediction (measured T30 / design RT60: median 1.1, range 0.8-1.5
either way). `info["rt60"]` is the design value; `rir_measures(room.rir, room.delay, sr)` gives
what the RIR actually has: its direct-to-reverberant ratio and C50 in dB.

Reverberation keeps the length of the clip: the output sample t is the reverberant signal at
t + the direct-path delay (distance / c plus the centre of pyroomacoustics' fractional-delay
filter), so the word stays where it was in its 1 s window and only the tail past the end is cut.
Levels are physical: the RIR is scaled so that the direct path of a talker at REF_DISTANCE
(1 m) has gain 1; farther talkers are quieter by the 1/r law (-14 dB at 5 m, before the
reverberant energy that adds to it). `ref_distance=None` instead rescales the reverberant clip
to the RMS of the dry one.

Noise (all synthesised, nothing downloaded), NOISE_KINDS:
    white, pink, brown   Gaussian noise with a 1/f^0, 1/f^1, 1/f^2 power spectrum (shaped in the
                         frequency domain, flat below 20 Hz, no DC)
    babble               5-8 other clean clips (e.g. other utterances of the corpus), each
                         circularly shifted by a random amount and given a random gain of
                         +-3 dB, summed; only available when a pool of clips is given
                         (`babble_talkers=(lo, hi)` changes how many)
    hum                  mains hum: a 50 or 60 Hz fundamental with 8 harmonics (amplitude 1/h,
                         random phases) over pink noise 20 dB below it (`hum_f0=` fixes the
                         fundamental instead)
The noise is added, unreverberated (a diffuse background), at the requested SNR, defined over
the whole clip: 10 log10(sum(reverberant speech^2) / sum(noise^2)). Were the mixture to exceed
PEAK (0.99) it is scaled down as a whole (`info["scale"]`), which leaves the SNR as it is.

Everything is drawn from the numpy Generator passed in, in a fixed order (room, then noise), so
the same seed gives the same output and `snr_db=None` gives exactly the reverberant part of
what the same seed gives with noise.
"""
import math
from dataclasses import dataclass

import numpy as np

from speechkit.errors import SpeechkitError

ROOM_DIMS_RANGE = ((3.0, 3.0, 2.5), (8.0, 8.0, 3.5))
RT60_RANGE = (0.2, 0.8)
DISTANCE_RANGE = (1.0, 5.0)
MIC_HEIGHT_RANGE = (0.7, 1.3)
SOURCE_HEIGHT_RANGE = (1.1, 1.8)
WALL_MARGIN = 0.3
MAX_ORDER = 40
REF_DISTANCE = 1.0
NOISE_KINDS = ("white", "pink", "brown", "babble", "hum")
# Kinds without speech in them: `_silence_` clips are made from these only.
SPEECHLESS_KINDS = ("white", "pink", "brown", "hum")
BABBLE_TALKERS = (5, 8)
PEAK = 0.99
# rir_measures: half-width of the direct-path window, end of the early part, clip of the ratios.
DIRECT_WINDOW_S = 0.0025
EARLY_S = 0.050
DB_CAP = 100.0
_PLACEMENT_TRIES = 100
_ROOM_TRIES = 1000


@dataclass
class Room:
    """One simulated room with its talker and microphone, and the RIR between them."""
    dims: tuple
    rt60: float          # design RT60 (Sabine), seconds
    absorption: float    # energy absorption coefficient of every wall
    max_order: int       # image-source reflection order used
    mic: tuple
    source: tuple
    distance: float      # metres, talker to microphone
    sample_rate: int
    rir: np.ndarray      # float32, the direct path at index `delay`
    delay: int           # samples from the start of the RIR to the direct path

    def info(self):
        return {"rt60": round(self.rt60, 3), "distance": round(self.distance, 3),
                "dims": tuple(round(d, 2) for d in self.dims),
                "absorption": round(self.absorption, 4), "max_order": self.max_order}


def _uniform(rng, lo, hi):
    return float(lo + (hi - lo) * rng.random())


def _place(rng, dims, distance):
    """(mic, source) inside dims at `distance` from each other, or None if no try fits."""
    lo = np.full(3, WALL_MARGIN)
    hi = np.asarray(dims) - WALL_MARGIN
    for _ in range(_PLACEMENT_TRIES):
        mic = np.array([_uniform(rng, lo[0], hi[0]), _uniform(rng, lo[1], hi[1]),
                        _uniform(rng, *MIC_HEIGHT_RANGE)])
        src_z = _uniform(rng, *SOURCE_HEIGHT_RANGE)
        dz = src_z - mic[2]
        if abs(dz) >= distance:
            continue
        horizontal = math.sqrt(distance ** 2 - dz ** 2)
        azimuth = _uniform(rng, 0.0, 2 * math.pi)
        src = np.array([mic[0] + horizontal * math.cos(azimuth),
                        mic[1] + horizontal * math.sin(azimuth), src_z])
        if np.all(src >= lo) and np.all(src <= hi) and mic[2] <= hi[2] and src_z <= hi[2]:
            return mic, src
    return None


def compute_rir(dims, absorption, max_order, mic, source, sample_rate):
    """(rir float32, direct-path index) from pyroomacoustics' image-source model."""
    import pyroomacoustics as pra  # noqa: PLC0415 - slow import, only needed here

    room = pra.ShoeBox(list(dims), fs=sample_rate, materials=pra.Material(absorption),
                       max_order=max_order)
    room.add_source(list(source))
    room.add_microphone(list(mic))
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float32)
    distance = float(np.linalg.norm(np.asarray(source) - np.asarray(mic)))
    # pyroomacoustics puts an image at floor(fs * dist / c) + frac_delay_length // 2.
    delay = (int(round(sample_rate * distance / room.c))
             + pra.constants.get("frac_delay_length") // 2)
    return rir, min(delay, len(rir) - 1)


def draw_room(rng, sample_rate=16000, rt60_range=RT60_RANGE, distance_range=DISTANCE_RANGE,
              dims_range=ROOM_DIMS_RANGE, max_order=MAX_ORDER):
    """A random Room (RIR computed) from the numpy Generator rng."""
    import pyroomacoustics as pra  # noqa: PLC0415

    _check_range("rt60_range", rt60_range, 0.05, 5.0)
    _check_range("distance_range", distance_range, 0.1, 50.0)
    for _ in range(_ROOM_TRIES):
        dims = tuple(_uniform(rng, lo, hi) for lo, hi in zip(*dims_range))
        rt60 = _uniform(rng, *rt60_range)
        distance = _uniform(rng, *distance_range)
        try:
            absorption, order = pra.inverse_sabine(rt60, list(dims))
        except ValueError:  # no absorption gives this RT60 in this room: draw another
            continue
        placed = _place(rng, dims, distance)
        if placed is None:
            continue
        mic, src = placed
        order = int(min(order, max_order))
        rir, delay = compute_rir(dims, absorption, order, mic, src, sample_rate)
        return Room(dims=dims, rt60=rt60, absorption=float(absorption), max_order=order,
                    mic=tuple(mic), source=tuple(src), distance=distance,
                    sample_rate=sample_rate, rir=rir, delay=delay)
    raise SpeechkitError(f"no room of {dims_range[0]}..{dims_range[1]} m fits RT60 "
                         f"{rt60_range} s and distance {distance_range} m in {_ROOM_TRIES} draws; "
                         f"widen the ranges")


def make_rooms(rng, num_rooms, sample_rate=16000, **kwargs):
    """A cache of num_rooms rooms drawn one after another from rng."""
    return [draw_room(rng, sample_rate, **kwargs) for _ in range(num_rooms)]


def _check_range(name, value, lo, hi):
    a, b = value
    if not (lo <= a <= b <= hi):
        raise SpeechkitError(f"{name} {a}..{b} is not an interval within {lo}..{hi}")


def power(x):
    """Mean square of x (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.mean(x * x)) if len(x) else 0.0


def reverberate(wav, room, ref_distance=REF_DISTANCE):
    """wav through room.rir, aligned on the direct path, same length as wav (float32)."""
    from scipy.signal import fftconvolve  # noqa: PLC0415

    wav = np.asarray(wav, dtype=np.float32)
    out = fftconvolve(wav, room.rir)[room.delay:room.delay + len(wav)]
    if ref_distance is None:
        p_out = power(out)
        out = out * math.sqrt(power(wav) / p_out) if p_out > 0 else out
    else:
        # pyroomacoustics' direct path has gain 1/distance: at ref_distance it becomes 1.
        out = out * ref_distance
    return out.astype(np.float32)


# ---- measures of a room impulse response ----

def rir_measures(rir, direct, sample_rate):
    """{"drr", "c50"} in dB of an RIR whose direct path is at index `direct`.

    DRR: the energy within +-DIRECT_WINDOW_S (2.5 ms) of the direct path over the energy after
    that window. C50: the energy from the start of that window to EARLY_S (50 ms) after the
    direct path over the energy after it. Energy before the window (the fractional-delay
    filter's precursor) counts in neither. Pass the geometric direct path (Room.delay), not the
    largest peak: in these rooms coinciding reflections often outweigh the direct path.
    Ratios are clipped to +-DB_CAP (100 dB), so that an RIR without a tail (a pure delta) gives
    100 dB instead of infinity and tables and JSON stay finite.
    """
    energy = np.asarray(rir, dtype=np.float64) ** 2
    if not 0 <= direct < len(energy):
        raise SpeechkitError(f"direct path at sample {direct} is outside the RIR "
                             f"({len(energy)} samples)")
    start = max(0, direct - round(DIRECT_WINDOW_S * sample_rate))
    window_end = direct + round(DIRECT_WINDOW_S * sample_rate) + 1
    early_end = direct + round(EARLY_S * sample_rate)
    if energy[start:].sum() <= 0:
        raise SpeechkitError("the RIR is silent from its direct path on; no DRR or C50")
    return {"drr": _ratio_db(energy[start:window_end].sum(), energy[window_end:].sum()),
            "c50": _ratio_db(energy[start:early_end].sum(), energy[early_end:].sum())}


def _ratio_db(num, den):
    if den <= 0:
        return DB_CAP
    if num <= 0:
        return -DB_CAP
    return float(np.clip(10 * math.log10(num / den), -DB_CAP, DB_CAP))


# ---- noise ----

def colored_noise(n, rng, exponent, sample_rate=16000):
    """Gaussian noise with power spectrum ~ 1/f^exponent (flat below 20 Hz, no DC), unit RMS."""
    white = rng.standard_normal(n)
    if exponent == 0:
        x = white
    else:
        spec = np.fft.rfft(white)
        f = np.maximum(np.fft.rfftfreq(n, 1 / sample_rate), 20.0)
        spec *= f ** (-exponent / 2)
        spec[0] = 0
        x = np.fft.irfft(spec, n)
    return _unit(x)


def hum(n, rng, sample_rate=16000, harmonics=8, f0=None):
    """Mains hum (f0 and harmonics, random phases) over pink noise 20 dB lower.

    f0: the fundamental in Hz; None draws 50 or 60 Hz from rng.
    """
    if f0 is None:
        f0 = 50.0 if rng.random() < 0.5 else 60.0
    elif not 0 < f0 < sample_rate / 2:
        raise SpeechkitError(f"hum fundamental {f0} Hz is not within 0..{sample_rate / 2:g} Hz")
    t = np.arange(n) / sample_rate
    x = np.zeros(n)
    for h in range(1, harmonics + 1):
        x += np.sin(2 * np.pi * f0 * h * t + _uniform(rng, 0, 2 * np.pi)) / h
    x = _unit(x) + 0.1 * colored_noise(n, rng, 1, sample_rate)
    return _unit(x)


def babble(n, rng, pool, talkers=BABBLE_TALKERS):
    """Sum of lo-hi (talkers, default 5-8) distinct clips of `pool` (a list of 1-D arrays),
    shifted and at +-3 dB; fewer if the pool is smaller."""
    if len(pool) == 0:
        raise SpeechkitError("babble noise needs a pool of speech clips; none given")
    lo, hi = talkers
    if not 1 <= lo <= hi:
        raise SpeechkitError(f"babble talkers {lo}..{hi}: need 1 <= low <= high")
    k = min(len(pool), int(rng.integers(lo, hi + 1)))
    x = np.zeros(n)
    for i in rng.choice(len(pool), size=k, replace=False):
        clip = np.resize(np.asarray(pool[i], dtype=np.float64), n)  # repeats a short clip
        clip = np.roll(clip, int(rng.integers(n)))
        x += _unit(clip) * 10 ** (_uniform(rng, -3, 3) / 20)
    return _unit(x)


def make_noise(kind, n, rng, sample_rate=16000, pool=None, hum_f0=None,
               babble_talkers=BABBLE_TALKERS):
    """n samples of noise `kind` (one of NOISE_KINDS) at unit RMS, float32.

    hum_f0 fixes the hum's fundamental (None: 50 or 60 Hz at random); babble_talkers is the
    (low, high) number of clips of `pool` a babble sums.
    """
    if kind == "white":
        x = colored_noise(n, rng, 0, sample_rate)
    elif kind == "pink":
        x = colored_noise(n, rng, 1, sample_rate)
    elif kind == "brown":
        x = colored_noise(n, rng, 2, sample_rate)
    elif kind == "hum":
        x = hum(n, rng, sample_rate, f0=hum_f0)
    elif kind == "babble":
        x = babble(n, rng, pool if pool is not None else [], babble_talkers)
    else:
        raise SpeechkitError(f"unknown noise kind '{kind}'; known: {', '.join(NOISE_KINDS)}")
    return x.astype(np.float32)


def _unit(x):
    rms = math.sqrt(power(x))
    return x / rms if rms > 0 else x


def add_noise(speech, noise, snr_db, ref_power=None):
    """(speech + g * noise scaled to the SNR, peak scale): SNR over the whole clip.

    ref_power replaces the power of `speech` as the reference (for clips without speech).
    The mixture is scaled down as a whole if its peak would exceed PEAK.
    """
    p_s = power(speech) if ref_power is None else ref_power
    p_n = power(noise)
    gain = math.sqrt(p_s / (p_n * 10 ** (snr_db / 10))) if p_n > 0 else 0.0
    mix = np.asarray(speech, dtype=np.float64) + gain * np.asarray(noise, dtype=np.float64)
    peak = float(np.max(np.abs(mix))) if len(mix) else 0.0
    scale = PEAK / peak if peak > PEAK else 1.0
    return (mix * scale).astype(np.float32), scale


def farfield(wav, sr, rng, snr_db, room=None, noise_kind=None, noise_kinds=NOISE_KINDS,
             babble_pool=None, ref_distance=REF_DISTANCE, **room_kwargs):
    """A clip as heard across a random room with background noise -> (wav, info).

    wav: 1-D float clip; rng: numpy Generator (the only source of randomness); snr_db: target
    SNR in dB, or None for no noise. room: a Room to use instead of drawing one (room_kwargs
    go to draw_room). noise_kind: one of NOISE_KINDS, else drawn from noise_kinds (babble only
    if babble_pool, a list of clips, is given). info: rt60, distance, snr, noise, scale, dims,
    absorption, max_order.
    """
    if room is None:
        room = draw_room(rng, sr, **room_kwargs)
    elif room.sample_rate != sr:
        raise SpeechkitError(f"room simulated at {room.sample_rate} Hz, clip at {sr} Hz")
    rev = reverberate(wav, room, ref_distance)
    info = dict(room.info(), snr=None, noise=None, scale=1.0)
    if snr_db is None:
        return rev, info
    if noise_kind is None:
        kinds = [k for k in noise_kinds if k != "babble" or babble_pool]
        if not kinds:
            raise SpeechkitError("no noise kind to draw from (babble needs babble_pool)")
        noise_kind = kinds[int(rng.integers(len(kinds)))]
    noise = make_noise(noise_kind, len(rev), rng, sr, babble_pool)
    out, scale = add_noise(rev, noise, snr_db)
    info.update(snr=float(snr_db), noise=noise_kind, scale=scale)
    return out, info

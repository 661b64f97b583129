"""Speaker-specific eSpeak variants: the drawn parameters stay in their ranges, amount 0 sounds
exactly like the preset, and a longer or shorter vocal tract moves the spectrum."""
import math
import multiprocessing
import os
import random

import numpy as np
import pytest

from speechkit.corpus import espeak, espeak_variants as ev

TEXT = "the quick brown fox jumps over the lazy dog"


def preset(name):
    with open(os.path.join(espeak.data_path(), "voices", "!v", name), encoding="utf-8") as f:
        return f.read()


def _synth(job):
    data, variant = job
    engine = espeak.Espeak(seed=1, data=data)
    engine.set_voice("en", variant)
    engine.set_rand_seed(5)
    return engine.synth(TEXT)


def synth_fresh(jobs):
    """eSpeak keeps state between utterances: each job in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2, maxtasksperchild=1) as pool:
        return pool.map(_synth, jobs)


def parsed(text):
    return {words[0] if words[0] != "formant" else f"formant{words[1]}": words[1:]
            for words in (line.split() for line in text.splitlines()) if words}


class Tract(random.Random):
    """Draws the vocal-tract factor at the bottom (0) or top (1) of its range and leaves every
    other parameter as in the preset."""

    def __init__(self, tract):
        super().__init__(0)
        self.draws = iter([tract])

    def random(self):
        return next(self.draws, 0.5)

    def randint(self, a, b):
        return max(a, min(b, 0))


@pytest.mark.parametrize("name", ["m3", "Alex", "f1", "klatt3", "croak"])
def test_amount_zero_is_the_preset(name):
    text = ev.jittered(preset(name), "x", random.Random(1), 0.0)
    base, got = parsed(preset(name)), parsed(text)
    for key, value in base.items():
        if key.startswith("formant"):
            assert got[key][:3] == value[:3], key
        elif key not in ("language", "name"):
            assert got[key] == value, key


def test_amount_zero_sounds_like_the_preset(tmp_path):
    # Presets with and without formant lines, a fourth formant value, breath, klatt.
    names = ["m3", "Alex", "f1", "f2", "klatt3", "croak"]
    own = {f"z{i}": ev.jittered(preset(n), f"z{i}", random.Random(i), 0.0)
           for i, n in enumerate(names)}
    data = ev.data_with_variants(espeak.data_path(), str(tmp_path), own)
    audio = synth_fresh([(None, n) for n in names] + [(data, v) for v in own])
    for name, a, b in zip(names, audio, audio[len(names):]):
        assert len(a) == len(b) and np.array_equal(a, b), name


def test_drawn_values_stay_in_range():
    base = parsed(preset("m3"))
    for seed in range(50):
        got = parsed(ev.jittered(preset("m3"), "x", random.Random(seed), 1.0))
        ratios = [int(got[f"formant{n}"][1]) / int(base[f"formant{n}"][1]) for n in range(1, 9)]
        # One vocal-tract factor (+-15%) times each formant's own +-5%, rounded to a percent.
        assert math.exp(-0.15) * 0.95 - 0.02 <= min(ratios)
        assert max(ratios) <= math.exp(0.15) * 1.05 + 0.02
        assert max(ratios) / min(ratios) <= 1.05 / 0.95 + 0.03
        assert 0 <= int(got["roughness"][0]) <= 5 and 2 <= int(got["flutter"][0]) <= 22
        assert 70 <= int(got["voicing"][0]) <= 130
        assert got["pitch"] == base["pitch"] and got["name"] == ["x"]
        assert "language" not in got  # not listed by eSpeak (it lists at most 349 voices)


def test_vocal_tract_moves_the_spectrum(tmp_path):
    own = {"long": ev.jittered(preset("m3"), "long", Tract(0.0), 1.0),
           "short": ev.jittered(preset("m3"), "short", Tract(1.0), 1.0)}
    formant2 = [parsed(text)["formant2"][1] for text in own.values()]
    assert formant2 == [str(round(96 * math.exp(-0.15))), str(round(96 * math.exp(0.15)))]
    data = ev.data_with_variants(espeak.data_path(), str(tmp_path), own)
    base, long_, short = synth_fresh([(None, "m3"), (data, "long"), (data, "short")])

    def centroid(x):
        frames = x[:len(x) // 512 * 512].astype(float).reshape(-1, 512) * np.hanning(512)
        power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).sum(0)
        return (power * np.fft.rfftfreq(512, 1 / 22050)).sum() / power.sum()
    assert centroid(long_) < 0.95 * centroid(base) and centroid(short) > 1.05 * centroid(base)


def test_data_with_variants_links_the_shipped_data(tmp_path):
    data = ev.data_with_variants(espeak.data_path(), str(tmp_path), {"mine": "name mine\n"})
    assert set(os.listdir(data)) == set(os.listdir(espeak.data_path()))
    assert set(espeak.list_variants(data)) == set(espeak.list_variants()) | {"mine"}
    assert os.path.islink(os.path.join(data, "phondata"))

"""Speaker-specific eSpeak NG voice variants: a preset (`voices/!v/m3`, ...) with its parameters
jittered, so that a corpus has as many vocal tracts as speakers, not ~100 presets.

A variant file is lines of `keyword values` (eSpeak NG's docs/voices.md). What is drawn, by up to
`amount` (0..1) of the full range, from the preset's own values (eSpeak's defaults where the
preset has no line; amount 0 gives the preset's sound exactly, tests/test_espeak_variants.py):
- `formant N freq height width` (percent of the language's formant N): every frequency times one
  vocal-tract factor (+-15%) and its own +-5%, heights and widths each +-30%;
- `roughness` +-3 (creaky voice, 0..7), `flutter` up to +20 (F0 wobble), `voicing` +-30%
  (loudness of voiced against unvoiced sounds), `breath` up to +4 on formants 1-7 (breathiness).
Every other line of the preset (pitch, tone, consonants, klatt, ...) is kept as it is.

eSpeak reads variants only from its data folder, so `data_with_variants` builds a private copy
of the shipped espeak-ng-data out of symbolic links plus the generated files.
"""
import math
import os

NUM_FORMANTS = 9
FORMANT_SCALE = 0.15   # one vocal-tract factor for every formant frequency
FORMANT_JITTER = 0.05  # each frequency's own
SHAPE_JITTER = 0.30    # heights and widths

# eSpeak NG's values where a variant has no line (voices.c: VoiceReset, in file units; a
# formant's height and width are 1/2.56 percent of these there, so they take no exact line).
DEFAULTS = {"roughness": 2, "flutter": 2, "voicing": 100}
DEFAULT_HEIGHTS = (130, 128, 120, 116, 100, 100, 128, 128, 128)
DEFAULT_WIDTHS = (140, 128, 128, 160, 171, 171, 128, 128, 128)


def _formants(lines):
    """{N: [freq, height, width, freqadd]} of the formant lines of the preset."""
    return {int(words[1]): [int(w) for w in words[2:6]] + [0] * (6 - len(words))
            for words in lines
            if words[0] == "formant" and len(words) >= 5 and words[1].isdigit()}


def _scalars(lines):
    """{roughness, flutter, voicing: value} of the preset, eSpeak's defaults where it has none."""
    out = dict(DEFAULTS)
    out.update({words[0]: int(words[1]) for words in lines
                if words[0] in DEFAULTS and len(words) > 1})
    return out


def _bounded(value, lo, hi):
    return int(max(lo, min(hi, round(value))))


def jittered(preset_text, name, rng, amount):
    """The text of variant `name`: `preset_text` with its parameters drawn (see module doc)."""
    lines = [line.split() for line in preset_text.splitlines() if line.split()]
    keep = [words for words in lines
            if words[0] not in ("name", "language", "formant", "breath", *DEFAULTS)]

    def spread(width):
        return 1 + width * amount * (2 * rng.random() - 1)

    def step(lo, hi):
        return rng.randint(round(lo * amount), round(hi * amount))

    tract = math.exp(FORMANT_SCALE * amount * (2 * rng.random() - 1))
    # No `language` line: eSpeak lists every voice file that has one, up to 349 in all, and the
    # shipped data already has 345; a variant is loaded by its file name and needs none.
    out = [f"name {name}"] + [" ".join(words) for words in keep]
    preset = _formants(lines)
    for n in range(NUM_FORMANTS):
        if n not in preset and not amount:
            continue
        freq, height, width, add = preset.get(
            n, [100, DEFAULT_HEIGHTS[n] * 2 / 2.56, DEFAULT_WIDTHS[n] * 2 / 2.56, 0])
        out.append(f"formant {n} {_bounded(freq * tract * spread(FORMANT_JITTER), 10, 300)} "
                   f"{_bounded(height * spread(SHAPE_JITTER), 0, 400)} "
                   f"{_bounded(width * spread(SHAPE_JITTER), 0, 400)} {add}")
    scalar = _scalars(lines)
    out.append(f"roughness {_bounded(scalar['roughness'] + step(-3, 3), 0, 7)}")
    out.append(f"flutter {_bounded(scalar['flutter'] + step(0, 20), 0, 60)}")
    out.append(f"voicing {_bounded(scalar['voicing'] * spread(0.3), 0, 200)}")
    out += _breath(lines, step(0, 4))
    return "\n".join(out) + "\n"


def _breath(lines, more):
    """The breath line: the preset's with `more` added on formants 1-7 (none where the preset
    has none and nothing is added: eSpeak counts the values a breath line gives)."""
    values = next((words[1:] for words in lines if words[0] == "breath"), None)
    if values is None and not more:
        return []
    values = [int(v) for v in values or [0] * 8]
    return ["breath " + " ".join(str(v + more if i else v) for i, v in enumerate(values))]


def data_with_variants(shipped, root, variants):
    """root/espeak-ng-data: `shipped` (an espeak-ng-data folder) linked entry by entry, with the
    texts of `variants` ({name: text}) added to voices/!v; returns its path."""
    data = os.path.join(root, "espeak-ng-data")
    own = os.path.join(data, "voices", "!v")
    os.makedirs(own)
    for top, skip in ((data, "voices"), (os.path.join(data, "voices"), "!v"),
                      (own, None)):
        source = os.path.join(shipped, os.path.relpath(top, data))
        for entry in os.listdir(source):
            if entry != skip and entry not in variants:
                os.symlink(os.path.join(source, entry), os.path.join(top, entry))
    for name, text in variants.items():
        with open(os.path.join(own, name), "w", encoding="utf-8") as f:
            f.write(text)
    return data

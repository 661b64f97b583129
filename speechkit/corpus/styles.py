"""Prosody styles of the embedded corpus: eSpeak rate, pitch, pitch range and volume.

The one table of styles: the emotion recipe uses the names as class labels, the generator uses
the numbers. A speaker's own offsets (speechkit.corpus.synth.Speaker) are applied on top, so a
style is a direction (faster, higher, flatter, louder) rather than one fixed voice.
"""
from dataclasses import dataclass

from speechkit.errors import SpeechkitError


@dataclass(frozen=True)
class Style:
    name: str
    rate: int    # words per minute (eSpeak default 175)
    pitch: int   # base pitch 0-100 (default 50)
    range: int   # pitch range 0-100 (default 50): 0 is monotone
    volume: int  # amplitude 0-200 (default 100)
    description: str


# Directions follow the usual acoustic correlates of acted emotion: arousal raises rate, pitch
# and loudness; low valence / low arousal flattens the contour and slows down. Volumes stay at
# or below 130: above that eSpeak's output clips on loud voices.
STYLES = {s.name: s for s in (
    Style("neutral", 175, 50, 50, 100, "default reading"),
    Style("happy", 195, 66, 82, 110, "faster, higher, lively contour"),
    Style("sad", 135, 36, 18, 75, "slow, low, flat and quiet"),
    Style("angry", 205, 56, 90, 130, "fast, loud, wide contour"),
    Style("fearful", 220, 72, 62, 90, "fastest, high, a little quiet"),
    Style("bored", 145, 40, 8, 85, "slow, low, nearly monotone"),
    Style("surprised", 180, 78, 98, 110, "high pitch, widest contour"),
)}

ALL = "all"


def get_style(name):
    if name not in STYLES:
        raise SpeechkitError(f"unknown style '{name}'; known: {', '.join(STYLES)}")
    return STYLES[name]


def parse_styles(spec):
    """'neutral,happy' or 'all' -> tuple of style names, in the order given, no duplicates."""
    names = list(STYLES) if spec.strip() == ALL else [s.strip() for s in spec.split(",")]
    if not all(names):
        raise SpeechkitError(f"empty style name in '{spec}'; give e.g. 'neutral,happy' or 'all'")
    for name in names:
        get_style(name)
    if len(set(names)) != len(names):
        raise SpeechkitError(f"style listed twice in '{spec}'")
    return tuple(names)

"""Text profiles of the embedded corpus: name -> function(rng) -> (spoken_text, transcript).

`rng` is a `random.Random` owned by one utterance, so a profile may draw as much as it likes
without shifting any other utterance. `spoken_text` is what eSpeak reads; `transcript` is the
reference text (words separated by single spaces, no tabs or newlines). Add a profile by
decorating a function with @register("name"); nothing else needs editing.
"""
from speechkit.registry import Registry

PROFILES = Registry("profile")
register = PROFILES.register
get_profile = PROFILES.get

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
DIGITS_VOCAB = frozenset(DIGIT_WORDS + ("oh",))


def randint(rng, lo, hi):
    """Uniform integer in [lo, hi] from rng.random() alone.

    random.random() is the one stream Python promises not to change between versions, so the
    corpus does not depend on how randrange/choice are implemented.
    """
    return lo + min(int(rng.random() * (hi - lo + 1)), hi - lo)


def choice(rng, items):
    return items[randint(rng, 0, len(items) - 1)]


def shuffled(rng, items):
    """A shuffled copy of items (Fisher-Yates on rng.random(), for the same reason)."""
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j = randint(rng, 0, i)
        out[i], out[j] = out[j], out[i]
    return out


@register("digits")
def digits(rng, min_len=1, max_len=7, oh_prob=0.3):
    """A string of 1-7 digits read as words; 0 is read "oh" with probability oh_prob."""
    words = []
    for _ in range(randint(rng, min_len, max_len)):
        d = randint(rng, 0, 9)
        words.append("oh" if d == 0 and rng.random() < oh_prob else DIGIT_WORDS[d])
    text = " ".join(words)
    return text, text


# Google Speech Commands v0.02: its 10 command words are the keywords, its 25 other words make
# `_unknown_` (mapped in data preparation; the transcript keeps the true word).
COMMAND_KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
COMMAND_OTHER_WORDS = ("backward", "bed", "bird", "cat", "dog", "eight", "five", "follow",
                       "forward", "four", "happy", "house", "learn", "marvin", "nine", "one",
                       "seven", "sheila", "six", "three", "tree", "two", "visual", "wow", "zero")


@register("commands")
def commands(rng, keyword_prob=0.7):
    """One Speech-Commands word per utterance: a keyword with probability keyword_prob (each
    keyword then 7%), otherwise one of the 25 other words (1.2% each)."""
    words = COMMAND_KEYWORDS if rng.random() < keyword_prob else COMMAND_OTHER_WORDS
    word = choice(rng, words)
    return word, word


# Short read sentences for the recipes that need running speech (emotion, enhancement,
# mel-cepstrum, speaker): a few templates over a vocabulary with most English phonemes, so that
# any voice can read any sentence and sentences recur across voices (parallel data for free).
_SUBJECTS = ("the old man", "a young girl", "the small dog", "my brother", "the teacher",
             "her friend", "the farmer", "a tall woman", "the children", "our neighbour")
_VERBS = ("found", "painted", "carried", "watched", "opened", "cleaned", "brought", "followed",
          "moved", "lost", "judged", "reached", "pushed", "measured", "chose")
_OBJECTS = ("the red box", "a heavy chair", "the blue boat", "seven green apples",
            "the broken gate", "a thick rope", "the shiny coin", "the wooden fence",
            "a warm coat", "the big map", "the yellow kite", "a fresh loaf of bread")
_PLACES = ("near the river", "in the garden", "after lunch", "before the storm",
           "at the station", "by the old church", "under the bridge", "on the hill",
           "during the night", "behind the house")


@register("sentences")
def sentences(rng):
    """One short declarative sentence: subject, verb, object and (half the time) a place."""
    words = [choice(rng, _SUBJECTS), choice(rng, _VERBS), choice(rng, _OBJECTS)]
    if rng.random() < 0.5:
        words.append(choice(rng, _PLACES))
    text = " ".join(words)
    return text, text

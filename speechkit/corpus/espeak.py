"""ctypes binding to the eSpeak NG library shipped by the `espeakng-loader` package.

One `Espeak` per process: the library is a singleton with global state (the current voice, the
wave generator's phase, its random generator), so the audio of a text depends on what the
process synthesised before. Reproducible audio needs every run of utterances to start from the
same state, e.g. in a fork of a freshly initialised, seeded process (speechkit.corpus.synth).
"""
import ctypes
import functools
import os

import espeakng_loader
import numpy as np

from speechkit.errors import SpeechkitError

# speak_lib.h constants.
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
CHARS_UTF8 = 1
ENDPAUSE = 0x1000
POS_CHARACTER = 1
PARAMETERS = {"rate": 1, "volume": 2, "pitch": 3, "range": 4}
# Valid values of each parameter (rate in words per minute, the others in espeak's units).
PARAMETER_LIMITS = {"rate": (80, 450), "volume": (0, 200), "pitch": (0, 100), "range": (0, 100)}

# int callback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.c_void_p)


def library_paths():
    """(shared library, espeak-ng-data directory) as shipped by espeakng-loader."""
    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


def data_path():
    return library_paths()[1]


@functools.lru_cache(maxsize=None)
def list_variants(data=None):
    """Names of the voice variants (the `+name` part of a voice) of an espeak-ng-data folder
    (the shipped one by default), plain-sorted."""
    return tuple(sorted(os.listdir(os.path.join(data or data_path(), "voices", "!v"))))


def has_accent(accent):
    """Whether the shipped data has the language voice `accent` (e.g. 'en-gb-x-rp')."""
    folder = os.path.join(data_path(), "lang", "gmw")
    return accent.lower() in {name.lower() for name in os.listdir(folder)}


class Espeak:
    """The eSpeak NG library, initialised for synchronous synthesis into memory."""

    def __init__(self, seed=None, data=None):
        """data: an espeak-ng-data folder other than the shipped one (e.g. with own variants)."""
        lib_path, shipped = library_paths()
        self.data = data = data or shipped
        self.lib = ctypes.CDLL(lib_path)
        self._declare()
        # The path argument is the folder that holds espeak-ng-data.
        rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                          os.path.dirname(data).encode(), INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({rate}) with data in {data}")
        self.sample_rate = rate
        self._chunks = []
        # Keep a reference: ctypes frees the trampoline when the Python object dies.
        self._callback = _SYNTH_CALLBACK(self._collect)
        self.lib.espeak_SetSynthCallback(self._callback)
        if seed is not None:
            self.set_rand_seed(seed)

    def _declare(self):
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint,
                                     ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p]
        lib.espeak_Synchronize.argtypes = []

    def _collect(self, wav, numsamples, events):
        if wav and numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        return 0  # 0 = go on synthesising

    @property
    def has_rand_seed(self):
        return hasattr(self.lib, "espeak_ng_SetRandSeed")

    def set_rand_seed(self, seed):
        """Seed espeak's own generator (it is seeded from the clock at initialisation)."""
        if not self.has_rand_seed:
            raise RuntimeError("this libespeak-ng does not export espeak_ng_SetRandSeed")
        self.lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))

    def set_voice(self, accent, variant=None):
        """Select a language voice ('en-us') and optionally a variant ('m3', 'f2', ...)."""
        name = accent if not variant else f"{accent}+{variant}"
        # eSpeak silently ignores an unknown variant; an unknown language is an error.
        if variant and variant not in list_variants(self.data):
            raise SpeechkitError(f"eSpeak has no voice variant '{variant}'")
        if self.lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise SpeechkitError(f"eSpeak has no voice '{name}'")

    def set_parameter(self, name, value):
        """Set rate (words/minute), volume, pitch or range to an absolute value."""
        if name not in PARAMETERS:
            known = ", ".join(PARAMETERS)
            raise SpeechkitError(f"unknown eSpeak parameter '{name}'; known: {known}")
        lo, hi = PARAMETER_LIMITS[name]
        if not lo <= value <= hi:
            raise SpeechkitError(f"eSpeak {name} {value} is outside [{lo}, {hi}]")
        if self.lib.espeak_SetParameter(PARAMETERS[name], int(value), 0) != 0:
            raise RuntimeError(f"espeak_SetParameter({name}, {value}) failed")

    def synth(self, text):
        """int16 samples of `text` at self.sample_rate."""
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        err = self.lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8 | ENDPAUSE,
                                    None, None)
        if err != 0:
            raise RuntimeError(f"espeak_Synth failed ({err}) on {text!r}")
        self.lib.espeak_Synchronize()
        chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)

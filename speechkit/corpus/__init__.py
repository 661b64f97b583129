"""The embedded corpus generator and the preparation of each corpus into data dirs."""
from speechkit.corpus import embedded  # noqa: F401  (registers the preparer)
from speechkit.corpus import yesno  # noqa: F401  (registers the preparer)
from speechkit.corpus import kws  # noqa: F401  (registers the preparer embedded_kws)
from speechkit.corpus import speech_commands  # noqa: F401  (registers the preparer)
from speechkit.corpus.registry import PREPARERS, get_preparer

__all__ = ["PREPARERS", "get_preparer"]

"""The embedded corpus generator and the preparation of each corpus into data dirs.

Every module is imported here, so a preparer registers itself with @register("name").
"""
from speechkit.corpus.registry import PREPARERS, get_preparer
from speechkit.registry import discover

discover(__name__)

__all__ = ["PREPARERS", "get_preparer"]

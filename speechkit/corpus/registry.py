"""Corpus preparers by name: `speechkit prepare-corpus NAME SRC DATA_ROOT`.

A preparer reads a corpus as downloaded (or as synth-corpus wrote it) and writes Kaldi data
dirs under DATA_ROOT, returning {split: number of utterances}. Add one by decorating
`prepare(src, data_root)` with @register("name") in its own module and importing that module in
speechkit/corpus/__init__.py.
"""
from speechkit.registry import Registry

PREPARERS = Registry("corpus")
register = PREPARERS.register
get_preparer = PREPARERS.get

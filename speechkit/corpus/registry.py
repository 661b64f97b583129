"""Corpus preparers by name: `speechkit prepare-corpus NAME SRC DATA_ROOT`.

A preparer reads a corpus as downloaded (or as synth-corpus wrote it) and writes Kaldi data
dirs under DATA_ROOT, returning {split: number of utterances}. Add one by decorating
`prepare(src, data_root)` with @register("name") in a new module of speechkit/corpus/ (the
package imports all of its modules).
"""
from speechkit.registry import Registry

PREPARERS = Registry("corpus")
register = PREPARERS.register
get_preparer = PREPARERS.get

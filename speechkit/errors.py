"""The one exception type for bad input.

Anything raised as SpeechkitError is the user's to fix (a missing file, a bad table line); the
command line prints its message as one line and exits non-zero instead of showing a traceback.
"""


class SpeechkitError(Exception):
    """Bad input: the message names the file, the line or key, and what to do."""


def where(path, lineno=None, key=None):
    """'path:line (key k)' prefix for error messages."""
    out = str(path)
    if lineno is not None:
        out += f":{lineno}"
    if key is not None:
        out += f" (key {key})"
    return out

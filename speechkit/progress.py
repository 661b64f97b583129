"""tqdm progress bars that show in a terminal and stay quiet in job logs."""
import sys

from tqdm import tqdm


def progress(iterable=None, desc=None, total=None, unit="utt", **kwargs):
    """tqdm over `iterable`, disabled unless stderr is a terminal (job logs stay clean)."""
    return tqdm(iterable, desc=desc, total=total, unit=unit,
                disable=not sys.stderr.isatty(), leave=False, **kwargs)

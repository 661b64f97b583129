#!/usr/bin/env python3
"""Kaldi's run.pl in speechkit: see speechkit/jobs/local.py, or run with --help."""
import os
import sys

try:
    import speechkit  # noqa: F401
except ImportError:
    # Run from a checkout without the package installed: the repo root is the parent of utils/.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))

from speechkit.jobs.local import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

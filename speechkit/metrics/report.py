"""A decode dir's scores: result.txt (lines for people) and scores.json (the numbers).

`speechkit results` and `speechkit compare` read scores.json back, so every scorer writes both
through here.
"""
import json
from pathlib import Path

from speechkit.io.table import atomic_write_text


def write_report(out_dir, lines, record):
    out_dir = Path(out_dir)
    atomic_write_text(out_dir / "result.txt", "\n".join(lines) + "\n")
    atomic_write_text(out_dir / "scores.json", json.dumps(record, indent=2) + "\n")

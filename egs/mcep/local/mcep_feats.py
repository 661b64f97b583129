#!/usr/bin/env python3
"""Helpers of local/make_mcep.sh and the statistics stage (speechkit.features.mcep_frontend).

  local/mcep_feats.py config conf/mcep.yaml FILE
                                              writes the typed feature config (type: mcep and
                                              the resolved options, data/<set>/feats.yaml) to
                                              FILE; prints the `speechkit compute-mcep`
                                              options that compute it
  local/mcep_feats.py stats data/train        data/train/gv.ark (GV overall and per speaker)
                                              and data/train/spk2lf0 (log-F0 mean, std)

A bad option (or a sample rate without a tabled alpha) is one line on stderr and exit code 1.
"""
import sys

from speechkit.cli import cli
from speechkit.errors import SpeechkitError
from speechkit.features.config import read_yaml, write_typed
from speechkit.features.mcep_frontend import compute_mcep_args, resolve, write_stats

USAGE = "usage: local/mcep_feats.py config CONFIG OUT_YAML | stats DATA_DIR"


@cli("local/mcep_feats.py")
def main(argv):
    if not ((len(argv) == 3 and argv[0] == "config") or (len(argv) == 2 and argv[0] == "stats")):
        raise SpeechkitError(USAGE)
    if argv[0] == "config":
        options = read_yaml(argv[1])
        options.pop("type", None)
        resolved = resolve(options, argv[1])
        write_typed(argv[2], "mcep", resolved)
        print(" ".join(compute_mcep_args(resolved)))
    else:
        path = argv[1]
        n = write_stats(path)
        print(f"{sys.argv[0]}: GV and log-F0 statistics of {n} speakers in {path}/gv.ark, "
              f"{path}/spk2lf0", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Parameter counts of PHASEN configs, per part and in total (the training stage logs them).

    local/param_counts.py conf/phasen.yaml conf/phasen_paper.yaml
"""
import sys

import yaml

from speechkit.nn.phasen import PHASEN, parameter_summary


def main(paths):
    for path in paths:
        with open(path) as f:
            conf = dict(yaml.safe_load(f)["model"])
        conf.pop("name", None)
        print(f"{path}:\n{parameter_summary(PHASEN(**conf))}\n")


if __name__ == "__main__":
    main(sys.argv[1:])

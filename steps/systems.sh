#!/usr/bin/env bash
# The experiment names of configs x seeds, one per line: <config name>[_<tag>]_seed<N>.
#
#   steps/systems.sh [--tag TAG] "conf/train_a.yaml conf/train_b.yaml" "1 2 3"
#
# steps/train.sh trains exactly these into exp/<name>; later stages loop over them. A seed is
# passed to training as train.seed, never parsed back out of a name.
set -euo pipefail

tag=
. utils/parse_options.sh
[ $# -eq 2 ] || { echo "Usage: $0 [--tag TAG] \"<configs>\" \"<seeds>\"" >&2; exit 1; }
for config in $1; do
  for seed in $2; do
    name=$(basename "${config%.*}")
    echo "${name}${tag:+_$tag}_seed$seed"
  done
done

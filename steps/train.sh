#!/usr/bin/env bash
# Train every config x seed into exp/<config name>[_<tag>]_seed<N> (steps/systems.sh names them).
#
#   steps/train.sh [--cmd CMD] [--ngpu N] [--tag TAG] [--train-args "train.epochs=2 ..."] \
#       "conf/train_a.yaml conf/train_b.yaml" "1 2 3" data/train data/dev
#
# Each run is `speechkit train --resume` with train.seed=<N> and the --train-args overrides, so
# rerunning the stage finishes unfinished runs and skips finished ones. Logs: exp/<name>/log/.
# --max-jobs N trains up to N systems at once, one thread each (steps/jobs.sh; default 1: one
# after another, each with the threads `train.num_threads` gives it); a failed one fails the
# stage once the others have finished.
set -euo pipefail

cmd=utils/run.py
ngpu=0
tag=
train_args=
max_jobs=1
help_message="Usage: $0 [--cmd CMD] [--ngpu N] [--tag TAG] [--train-args ARGS] [--max-jobs N] \"<configs>\" \"<seeds>\" <train-data> <dev-data>"
. utils/parse_options.sh
. "$(dirname "$0")/jobs.sh"
[ $# -eq 4 ] || { echo -e "$help_message" >&2; exit 1; }
configs=$1 seeds=$2 train=$3 dev=$4

for config in $configs; do
  for seed in $seeds; do
    name=$(steps/systems.sh --tag "$tag" "$config" "$seed")
    echo "$0: training exp/$name (follow it with: tail -f exp/$name/train.log)"
    start_job $cmd --gpu "$ngpu" "exp/$name/log/train.log" \
      speechkit train --config "$config" --exp-dir "exp/$name" --resume --ngpu "$ngpu" \
        --train-data "$train" --dev-data "$dev" "train.seed=$seed" $train_args
  done
done
wait_jobs "a training"

#!/usr/bin/env bash
# Train configs x seeds with steps/train.sh, --jobs configs at a time (each training uses one or
# two threads; on a few cores two single-threaded trainings beat one after the other).
#
#   local/train_systems.sh [--jobs 2] [--cmd CMD] [--ngpu N] [--train-args ARGS] \
#       "<config>:<dev dir> ..." "<seeds>" <train dir>
#
# Configs run in the order given (put the longest first); each as
# `steps/train.sh --cmd CMD --ngpu N --train-args ARGS <config> "<seeds>" <train dir> <dev dir>`.
set -euo pipefail
jobs=2
cmd=utils/run.py
ngpu=0
train_args=
. utils/parse_options.sh
[ $# -eq 3 ] || { echo "Usage: $0 [--jobs N] [--cmd CMD] [--ngpu N] [--train-args ARGS] \"<config>:<dev> ...\" \"<seeds>\" <train>" >&2; exit 1; }
pairs=$1 seeds=$2 train=$3

pids=() failed=0
for pair in $pairs; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 2; done   # statuses are read below
  steps/train.sh --cmd "$cmd" --ngpu "$ngpu" --train-args "$train_args" "${pair%%:*}" "$seeds" \
    "$train" "${pair#*:}" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
[ "$failed" -eq 0 ] || { echo "$0: $failed of ${#pids[@]} configs failed; see exp/*/log/train.log" >&2; exit 1; }

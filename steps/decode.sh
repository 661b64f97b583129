#!/usr/bin/env bash
# Decode every data dir with every system (the data-dir side of `speechkit infer`).
#
#   steps/decode.sh [--cmd CMD] [--suffix _beam10] [--max-jobs N] \
#       --decoder "speechkit asr-decode --beam 10" "<systems>" "<sets>"
#
# For system s and set x: `$decoder --model exp/s --out exp/s/decode_<basename of x><suffix> data/<x>`
# (x may be a path below data/, e.g. fold1/test -> decode_test), with
# its log in exp/s/decode_<x><suffix>/log/decode.log. steps/score.sh scores them.
# --max-jobs N runs up to N decodes at once (default 1: one after another); a failed one fails
# the stage once the others have finished.
set -euo pipefail

cmd=utils/run.py
suffix=
decoder=
max_jobs=1
help_message="Usage: $0 [--cmd CMD] [--suffix S] [--max-jobs N] --decoder CMD \"<systems>\" \"<sets>\""
. utils/parse_options.sh
. "$(dirname "$0")/jobs.sh"
[ $# -eq 2 ] && [ -n "$decoder" ] || { echo -e "$help_message" >&2; exit 1; }

for sys in $1; do
  for x in $2; do
    out=exp/$sys/decode_$(basename "$x")$suffix
    start_job $cmd "$out/log/decode.log" $decoder --model "exp/$sys" --out "$out" "data/$x"
  done
done
wait_jobs "a decode"

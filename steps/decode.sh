#!/usr/bin/env bash
# Decode every data dir with every system (the data-dir side of `speechkit infer`).
#
#   steps/decode.sh [--cmd CMD] [--suffix _beam10] --decoder "speechkit asr-decode --beam 10" \
#       "<systems>" "<sets>"
#
# For system s and set x: `$decoder --model exp/s --out exp/s/decode_<basename of x><suffix> data/<x>`
# (x may be a path below data/, e.g. fold1/test -> decode_test), with
# its log in exp/s/decode_<x><suffix>/log/decode.log. steps/score.sh scores them.
set -euo pipefail

cmd=utils/run.py
suffix=
decoder=
help_message="Usage: $0 [--cmd CMD] [--suffix S] --decoder CMD \"<systems>\" \"<sets>\""
. utils/parse_options.sh
[ $# -eq 2 ] && [ -n "$decoder" ] || { echo -e "$help_message" >&2; exit 1; }

for sys in $1; do
  for x in $2; do
    out=exp/$sys/decode_$(basename "$x")$suffix
    $cmd "$out/log/decode.log" $decoder --model "exp/$sys" --out "$out" "data/$x"
  done
done

#!/usr/bin/env bash
# Score every decode dir of every system, then each system's RESULTS.md (Kaldi's local/score.sh
# per decode dir, then a table).
#
#   steps/score.sh --scorer local/score.sh "<systems>"
#
# Runs `$scorer exp/s/decode_*` for each (it writes scores.json there), then
# `speechkit results exp/s > exp/s/RESULTS.md`.
set -euo pipefail

scorer=
help_message="Usage: $0 --scorer CMD \"<systems>\""
. utils/parse_options.sh
[ $# -eq 1 ] && [ -n "$scorer" ] || { echo -e "$help_message" >&2; exit 1; }

for sys in $1; do
  for dir in exp/$sys/decode_*/; do
    $scorer "${dir%/}"
  done
  speechkit results "exp/$sys" > "exp/$sys/RESULTS.md"
done

#!/usr/bin/env bash
# Score every decode dir of every system, then each system's RESULTS.md (Kaldi's local/score.sh
# per decode dir, then a table).
#
#   steps/score.sh [--max-jobs N] --scorer local/score.sh "<systems>"
#
# Runs `$scorer exp/s/decode_*` for each (it writes scores.json there; up to --max-jobs at
# once, default 1), then `speechkit results exp/s > exp/s/RESULTS.md`.
set -euo pipefail

scorer=
max_jobs=1
help_message="Usage: $0 [--max-jobs N] --scorer CMD \"<systems>\""
. utils/parse_options.sh
. "$(dirname "$0")/jobs.sh"
[ $# -eq 1 ] && [ -n "$scorer" ] || { echo -e "$help_message" >&2; exit 1; }

for sys in $1; do
  for dir in exp/$sys/decode_*/; do
    start_job $scorer "${dir%/}"
  done
done
wait_jobs "scoring"
for sys in $1; do
  speechkit results "exp/$sys" > "exp/$sys/RESULTS.md"
done

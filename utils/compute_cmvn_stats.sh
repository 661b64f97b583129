#!/usr/bin/env bash
# Per-speaker (default) or global CMVN statistics for a data dir (Kaldi's steps/compute_cmvn_stats.sh).
#
#   utils/compute_cmvn_stats.sh [--fake false] [--global false] <data-dir> [<log-dir> [<cmvn-dir>]]
#
# Writes <cmvn-dir>/cmvn_<name>.ark and <data-dir>/cmvn.scp (keys: speakers, or `global`).
set -euo pipefail

global=false
help_message="Usage: $0 [--global true|false] <data-dir> [<log-dir> [<cmvn-dir>]]"
. "$(dirname "$0")/parse_options.sh"
. "$(dirname "$0")/_speechkit.sh"

if [ $# -lt 1 ] || [ $# -gt 3 ]; then echo -e "$help_message" >&2; exit 1; fi
data=$1
name=$(basename "$data")
logdir=${2:-$data/log}
cmvndir=${3:-$data/data}
[ -f "$data/feats.scp" ] || { echo "$0: no such file $data/feats.scp; make features first" >&2; exit 1; }
mkdir -p "$logdir" "$cmvndir"
cmvndir=$(cd "$cmvndir" && pwd)

spk_opt="--spk2utt $data/spk2utt"
$global && spk_opt=""
speechkit compute-cmvn-stats $spk_opt "scp:$data/feats.scp" \
  "ark,scp:$cmvndir/cmvn_$name.ark,$data/cmvn.scp" 2> "$logdir/cmvn_$name.log" || {
  echo "$0: computing CMVN stats failed:" >&2; tail -n 5 "$logdir/cmvn_$name.log" >&2; exit 1; }
echo "Succeeded creating CMVN stats for $name"

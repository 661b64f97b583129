#!/usr/bin/env bash
# Per-speaker (default) or global CMVN statistics for a data dir (Kaldi's steps/compute_cmvn_stats.sh).
#
#   utils/compute_cmvn_stats.sh [--global false] <data-dir> [<log-dir> [<cmvn-dir>]]
#
# Writes <cmvn-dir>/cmvn_<name>.v<N>.ark and <data-dir>/cmvn.scp (keys: speakers, or `global`).
# Each run writes a new version and replaces cmvn.scp with the ark in one commit, then deletes
# the ark the old cmvn.scp used: no cmvn.scp, nor a copy of one, ever points into a rewritten ark.
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
shopt -s nullglob
ver=0
for f in "$cmvndir/cmvn_$name".v*.ark; do
  if [[ $f =~ \.v([0-9]+)\.ark$ ]] && [ "${BASH_REMATCH[1]}" -gt "$ver" ]; then ver=${BASH_REMATCH[1]}; fi
done
ark=$cmvndir/cmvn_$name.v$((ver + 1)).ark
old_arks=
[ -f "$data/cmvn.scp" ] && old_arks=$(awk '{print $2}' "$data/cmvn.scp" | sed -E 's/:[0-9]+$//' | LC_ALL=C sort -u)
spk_opt="--spk2utt $data/spk2utt"
$global && spk_opt=""
speechkit compute-cmvn-stats $spk_opt "scp:$data/feats.scp" "ark,scp:$ark,$data/cmvn.scp" \
  2> "$logdir/cmvn_$name.log" || {
  echo "$0: computing CMVN stats failed:" >&2; tail -n 5 "$logdir/cmvn_$name.log" >&2; exit 1; }
for old in $old_arks; do   # the arks of earlier runs (cmvn_<name>.ark before versions)
  [ "$old" != "$ark" ] && [ "$(dirname "$old")" = "$cmvndir" ] &&
    [[ $(basename "$old") == cmvn_"$name".* ]] && rm -f "$old"
done
echo "Succeeded creating CMVN stats for $name"

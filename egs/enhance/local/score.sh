#!/usr/bin/env bash
# Score one decode dir of enhanced audio (`speechkit score-enhance`), then each SNR bin of it as
# a sibling decode dir <dir>_snr<bin> (subsets of its wav.scp and references, zero-padded bin
# names so they sort by SNR), so that `speechkit compare` gets a column per bin.
#
#   local/score.sh [--nj N] exp/phasen_seed1/decode_test
#
# A bin dir whose scores.json is newer than its wav.scp was scored with its parent and is left
# alone when steps/score.sh reaches it; the parent is always rescored.
set -euo pipefail
nj=1
[ "${1:-}" = --nj ] && { nj=$2; shift 2; }
[ $# -eq 1 ] || { echo "Usage: $0 [--nj N] <decode-dir>" >&2; exit 1; }
dir=$1

if [ -f "$dir/.snr_bin" ] && [ "$dir/scores.json" -nt "$dir/wav.scp" ]; then
  exit 0
fi
speechkit score-enhance --nj "$nj" "$dir"
[ -f "$dir/utt2snr" ] && [ ! -f "$dir/.snr_bin" ] || exit 0
for b in $(awk '{print $2}' "$dir/utt2snr" | sort -u); do
  sub=${dir}_snr$(echo "$b" | awk '{printf ($1 >= 0 && $1 < 10 ? "0%s" : "%s"), $1}')
  mkdir -p "$sub"
  touch "$sub/.snr_bin"
  awk -v b="$b" '$2 == b {print $1}' "$dir/utt2snr" > "$sub/utts"
  for f in wav.scp utt2clean utt2snr utt2noise decode.conf; do
    [ -f "$dir/$f" ] || continue
    if [ $f = decode.conf ]; then cp "$dir/$f" "$sub/$f"; continue; fi
    awk 'NR == FNR {keep[$1] = 1; next} $1 in keep' "$sub/utts" "$dir/$f" > "$sub/$f"
  done
  speechkit score-enhance --nj "$nj" "$sub" > /dev/null
done

#!/usr/bin/env bash
# The recipe's RESULTS.md tables from the scored decode dirs (speechkit compare), on stdout.
#
#   local/make_results.sh "<reconstruction systems>" "<conversion systems>" "<baselines>"
#
# Reconstruction of test (MCD, with the GV post-filter, variance ratios) over the systems and
# baselines; the analysis-synthesis floor (the copy baseline's wavs analysed again); active
# latents of the VAEs; conversion of the test_vc pairs (DTW MCD) against the copy baseline,
# which keeps the source's spectrum (only F0 is converted).
set -euo pipefail
[ $# -eq 3 ] || { echo "Usage: $0 \"<systems>\" \"<vc systems>\" \"<baselines>\"" >&2; exit 1; }
exps() { for s in "$@"; do echo "exp/$s"; done; }
table_only() { sed -n '/^## /,$p'; }   # drop compare's title and runs line
systems=$1 vc_systems=$2 baselines=$3

speechkit compare --metric mcd --metric mcd_gv --metric vr --metric vr_gv $(exps $systems $baselines)
echo "# Analysis-synthesis floor"
echo
echo "The copy baseline's resynthesised wavs analysed again (mcd_resynth), per set:"
echo
speechkit compare --metric mcd_resynth exp/copy | table_only
vaes=$(for s in $systems; do case $s in *vae*) echo "$s" ;; esac; done)
if [ -n "$vaes" ]; then
  echo "# VAE latents"
  echo
  speechkit compare --metric active_latents $(exps $vaes) | table_only
fi
echo "# Voice conversion"
echo
echo "test_vc: each source converted to the target's voice, MCD after DTW against the target's"
echo "own rendering of the sentence; copy keeps the source spectrum (F0 converted only)."
echo
speechkit compare --metric mcd --metric mcd_gv --metric vr $(exps $vc_systems copy) | table_only

#!/usr/bin/env bash
# Markdown notes for exp/RESULTS.md from the training logs: each system's parameter count and,
# for multi-time-scale systems, the share of outputs each time scale won in the last epoch.
#
#   local/summary.sh "<systems>"
set -euo pipefail
[ $# -eq 1 ] || { echo "Usage: $0 \"<systems>\"" >&2; exit 1; }
echo "## Parameters and stretch shares (from exp/<system>/train.log)"
echo
echo "| run | parameters | last epoch's stretch shares per MTS layer (original kernel first) |"
echo "|---|---|---|"
for sys in $1; do
  log=exp/$sys/train.log
  params=$(grep -o '[0-9]* parameters on' "$log" | head -n 1 | cut -d' ' -f1)
  shares=$(grep 'stretch shares' "$log" | tail -n 1 | sed 's/.*stretch shares (original first): //' || true)
  echo "| $sys | $params | ${shares:--} |"
done

#!/usr/bin/env bash
# Give data dirs the typed feature config of the waveform front-end (the network owns its STFT):
#
#   local/waveform_conf.sh [--rate 16000] data/train data/dev data/test
#
# writes <dir>/feats.yaml = `type: waveform` + `sample_frequency: <rate>`, which training reads
# (data.features) and keeps in the model dir for inference.
set -euo pipefail
rate=16000
[ "${1:-}" = --rate ] && { rate=$2; shift 2; }
[ $# -ge 1 ] || { echo "Usage: $0 [--rate HZ] <data-dir> ..." >&2; exit 1; }
for d in "$@"; do
  python -c 'import sys; from speechkit.features.config import write_typed
write_typed(sys.argv[1] + "/feats.yaml", "waveform", {"sample_frequency": int(sys.argv[2])})' "$d" "$rate"
done

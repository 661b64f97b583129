#!/usr/bin/env bash
# Score one decode dir (its text against its ref): %WER/%CER/%SER, per-utterance details,
# scores.json for `speechkit results`.
set -euo pipefail
[ $# -eq 1 ] || { echo "Usage: $0 <decode-dir>" >&2; exit 1; }
dir=$1
echo "$dir:"
speechkit compute-wer --mode all --cer --out-dir "$dir" --details "$dir/wer_details" "$dir/ref" "$dir/text"

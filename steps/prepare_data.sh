#!/usr/bin/env bash
# Stage 1 of every recipe: Kaldi data dirs from a corpus, each one validated.
#
#   steps/prepare_data.sh [--opts "--opt k=v ..."] <preparer> <corpus-dir> <data-root>
#
# Runs `speechkit prepare-corpus <opts> <preparer> <corpus-dir> <data-root>` and then
# utils/validate_data_dir.sh --no-feats on every data dir it wrote (those with a wav.scp).
set -euo pipefail

opts=
help_message="Usage: $0 [--opts '--opt augment=true ...'] <preparer> <corpus-dir> <data-root>"
. utils/parse_options.sh
[ $# -eq 3 ] || { echo -e "$help_message" >&2; exit 1; }
preparer=$1 src=$2 data=$3

speechkit prepare-corpus $opts "$preparer" "$src" "$data"
for wav_scp in "$data"/*/wav.scp; do
  utils/validate_data_dir.sh --no-feats "$(dirname "$wav_scp")"
done

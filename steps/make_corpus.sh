#!/usr/bin/env bash
# Stage 0 of every recipe: get the corpus into corpus/<name>/.
#
#   steps/make_corpus.sh [--nj N] [--synth-opts "..."] <corpus> <dest>
#
# <corpus> `embedded`: `speechkit synth-corpus --skip-if-made <synth-opts> --nj N <dest>`:
# kept when <dest> already holds a complete corpus made with the same options, made afresh
# when it was made with others (a recipe's new default never meets an old corpus). Any other
# name: the recipe's local/download_and_untar.sh <corpus> <dest> (idempotent through
# <dest>/.done).
set -euo pipefail

nj=4
synth_opts=
help_message="Usage: $0 [--nj N] [--synth-opts '--profile digits --seed 1 ...'] <corpus> <dest>"
. utils/parse_options.sh
[ $# -eq 2 ] || { echo -e "$help_message" >&2; exit 1; }
corpus=$1 dest=$2

if [ "$corpus" = embedded ]; then
  speechkit synth-corpus --skip-if-made $synth_opts --nj "$nj" "$dest"
else
  local/download_and_untar.sh "$corpus" "$dest"
fi

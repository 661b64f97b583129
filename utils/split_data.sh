#!/usr/bin/env bash
# Kaldi's utils/split_data.sh over `speechkit data-dir split`; `speechkit data-dir split --help` lists its options.
. "$(dirname "$0")/_speechkit.sh"
exec speechkit data-dir split "$@"

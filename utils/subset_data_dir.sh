#!/usr/bin/env bash
# Kaldi's utils/subset_data_dir.sh over `speechkit data-dir subset`; `speechkit data-dir subset --help` lists its options.
. "$(dirname "$0")/_speechkit.sh"
exec speechkit data-dir subset "$@"

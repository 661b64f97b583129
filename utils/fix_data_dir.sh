#!/usr/bin/env bash
# Kaldi's utils/fix_data_dir.sh over `speechkit data-dir fix`; `speechkit data-dir fix --help` lists its options.
. "$(dirname "$0")/_speechkit.sh"
exec speechkit data-dir fix "$@"

#!/usr/bin/env bash
# Kaldi's utils/validate_data_dir.sh over `speechkit data-dir validate`; `speechkit data-dir validate --help` lists its options.
. "$(dirname "$0")/_speechkit.sh"
exec speechkit data-dir validate "$@"

#!/usr/bin/env bash
# Kaldi's utils/copy_data_dir.sh over `speechkit data-dir copy`; `speechkit data-dir copy --help` lists its options.
. "$(dirname "$0")/_speechkit.sh"
exec speechkit data-dir copy "$@"

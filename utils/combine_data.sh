#!/usr/bin/env bash
# Kaldi's utils/combine_data.sh over `speechkit data-dir combine`; `speechkit data-dir combine --help` lists its options.
. "$(dirname "$0")/_speechkit.sh"
exec speechkit data-dir combine "$@"

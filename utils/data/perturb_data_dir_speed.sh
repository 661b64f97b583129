#!/usr/bin/env bash
# Kaldi's utils/data/perturb_data_dir_speed.sh FACTOR SRC DEST over `speechkit perturb-data-dir speed`.
. "$(dirname "$0")/../_speechkit.sh"
exec speechkit perturb-data-dir speed "$@"

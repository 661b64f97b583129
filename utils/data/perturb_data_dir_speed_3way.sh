#!/usr/bin/env bash
# Kaldi's utils/data/perturb_data_dir_speed_3way.sh SRC DEST over `speechkit perturb-data-dir speed-3way`.
. "$(dirname "$0")/../_speechkit.sh"
exec speechkit perturb-data-dir speed-3way "$@"

#!/usr/bin/env bash
# Kaldi's utils/data/perturb_data_dir_volume.sh DATA over `speechkit perturb-data-dir volume`.
. "$(dirname "$0")/../_speechkit.sh"
exec speechkit perturb-data-dir volume "$@"

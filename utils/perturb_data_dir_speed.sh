#!/usr/bin/env bash
# Kaldi's older path of utils/data/perturb_data_dir_speed.sh; the same script.
exec "$(dirname "$0")/data/perturb_data_dir_speed.sh" "$@"

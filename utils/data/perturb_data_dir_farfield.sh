#!/usr/bin/env bash
# Far-field copy of a data dir (simulated room + noise, or --noise-dir DIR of your recordings)
# over `speechkit perturb-data-dir farfield`; Kaldi does this with steps/data/reverberate_data_dir.py.
. "$(dirname "$0")/../_speechkit.sh"
exec speechkit perturb-data-dir farfield "$@"

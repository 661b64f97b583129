#!/usr/bin/env bash
# Copy of a data dir in other voices, one per speaker (WORLD vocal-tract warp, F0 shift, tilt,
# random EQ, telephone band) over `speechkit perturb-data-dir voice`; Kaldi has no such script.
. "$(dirname "$0")/../_speechkit.sh"
exec speechkit perturb-data-dir voice "$@"

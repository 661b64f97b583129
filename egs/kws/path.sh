# Sourced by run.sh: speechkit's venv first on PATH, and quiet, reproducible threads.
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/activate_python.sh"
export LC_ALL=C
export PYTHONUNBUFFERED=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

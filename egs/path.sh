# Sourced by run.sh: speechkit's venv first on PATH, C collation, unbuffered logs.
# Shared by every recipe (egs/<task>/path.sh links here); sourced from the recipe dir.
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/activate_python.sh"
export LC_ALL=C
export PYTHONUNBUFFERED=1
# Threads: speechkit train picks them from the idle CPUs each epoch (train.num_threads: auto);
# export OMP_NUM_THREADS=N to fix the number.

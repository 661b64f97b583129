# Sourced by the utils/*.sh entries: find the venv, then hand over to `speechkit data-dir`.
. "$(dirname "${BASH_SOURCE[0]}")/../tools/activate_python.sh"

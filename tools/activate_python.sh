# Sourced by path.sh and utils/*.sh: put speechkit's venv first on PATH.
_speechkit_tools="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -x "$_speechkit_tools/venv/bin/speechkit" ]; then
  export PATH="$_speechkit_tools/venv/bin:$PATH"
elif ! command -v speechkit >/dev/null 2>&1; then
  echo "speechkit is not installed: run 'make -C $_speechkit_tools' first" >&2
  exit 1
fi
unset _speechkit_tools

# Sourced by the scripts: create ./.venv once and install the project into it.
# Usage: . scripts/_venv.sh EXTRAS   (EXTRAS e.g. "dev" or "" for the runtime only)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating virtual environment in $root/.venv" >&2
  "$python" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
spec="."
if [ -n "${1:-}" ]; then spec=".[$1]"; fi
# Re-install only when the project's requirements changed since the last install.
stamp=.venv/.empathynet-installed
want="$spec $(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
  echo "installing empathynet ($spec) and its dependencies (a few minutes the first time) ..." >&2
  # pip shows what it downloads and installs, on stderr so that a script's stdout holds
  # only its results; progress bars on a terminal only (a CI log gets one line a step).
  progress=on
  if [ ! -t 2 ]; then progress=off; fi
  python -m pip install --disable-pip-version-check --progress-bar "$progress" -e "$spec" >&2
  echo "$want" >> "$stamp"
fi

#!/usr/bin/env bash
# The main job on a fresh machine: set up, then run the demo end to end.
# Usage: bash scripts/demo.sh [OUT_DIR]   (default: demo-out)
set -euo pipefail
. "$(dirname "$0")/_venv.sh" "demo"
out=${1:-demo-out}
empathynet demo --out "$out"
echo "to run empathynet yourself: source .venv/bin/activate, then empathynet --help" >&2

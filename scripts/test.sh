#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up, then lint, type-check and test.
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
. "$(dirname "$0")/_venv.sh" "dev,asr,embed,hf,demo,export,ray"
echo "== ruff" >&2
ruff check src tests benchmarks
ruff format --check src tests benchmarks
echo "== mypy" >&2
mypy
echo "== pytest" >&2
status=0
python -m pytest "$@" || status=$?
# Exit code 5 means no tests were collected (e.g. a filter matched nothing): not a failure.
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  status=0
fi
exit "$status"

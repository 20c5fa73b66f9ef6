#!/usr/bin/env bash
# The report's browser test alone: writes a small report and opens it in headless Chromium
# through playwright (extra "browser", installed into ./.venv here), checking what a reader
# sees; screenshots go to EMPATHYNET_SCREENSHOTS (default: pytest's temp folder).
# Needs Debian's chromium on the PATH (.ci/run installs it; EMPATHYNET_CHROMIUM overrides
# the path): playwright drives it and never downloads a browser of its own.
# Usage: bash scripts/browser_test.sh [extra pytest arguments]
set -euo pipefail
. "$(dirname "$0")/_venv.sh" "dev,browser"
if ! command -v "${EMPATHYNET_CHROMIUM:-chromium}" >/dev/null; then
  echo "browser test: chromium not found; install Debian's chromium (apt-get install" \
    "chromium) or set EMPATHYNET_CHROMIUM to its path (never 'playwright install')" >&2
  exit 1
fi
# In this step a missing browser or playwright fails the test instead of skipping it.
export EMPATHYNET_REQUIRE_BROWSER=1
status=0
# -m slow overrides the default selection; -s shows where the screenshots went.
python -m pytest -q -s -m slow tests/report/test_report_browser.py "$@" || status=$?
# Exit code 5 means no test was collected: here the browser test must run.
if [ "$status" -eq 5 ]; then
  echo "browser test: pytest collected no test (a filter matched nothing?)" >&2
  status=1
fi
exit "$status"

#!/usr/bin/env bash
# The Label Studio integration test alone: installs label-studio 1.23 into its own venv
# (EMPATHYNET_LABEL_STUDIO_VENV, default ~/.cache/empathynet/label-studio-venv; reused when
# present), starts it on 127.0.0.1, round-trips a small dataset through its API, stops it.
# Usage: bash scripts/label_studio_test.sh [extra pytest arguments]
set -euo pipefail
. "$(dirname "$0")/_venv.sh" "dev,asr,embed,hf,demo,export"
venv=${EMPATHYNET_LABEL_STUDIO_VENV:-$HOME/.cache/empathynet/label-studio-venv}
if [ ! -x "$venv/bin/label-studio" ]; then
  echo "installing label-studio 1.23 into $venv (about a minute and a half) ..." >&2
  start=$(date +%s)
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q 'label-studio==1.23.*' >&2
  echo "label-studio installed in $(( $(date +%s) - start )) s" >&2
fi
export EMPATHYNET_LABEL_STUDIO_VENV="$venv"
# -m slow overrides the default "not slow" selection; -s shows the measured times.
exec python -m pytest -q -s -m slow tests/labels/test_labels_label_studio_live.py "$@"

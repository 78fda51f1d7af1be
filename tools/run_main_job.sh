#!/usr/bin/env bash
# The README's main-job command: install everything (idempotent; see tools/install.sh), then
# generate SynthAVS, train the positive-only baseline and the debiased model, evaluate both under
# every audio condition and print the robustness table (tools/reproduce/main_job.py; outputs in
# work_dirs/main_job).
#   bash tools/run_main_job.sh [main_job.py args, e.g. --quick]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/tools/install.sh"
VENV="${MMAVS_VENV:-$REPO/.venv}"
cd "$REPO"
exec "$VENV/bin/python" tools/reproduce/main_job.py "$@"

#!/usr/bin/env bash
# Execute notebooks in place (outputs and figures are stored, so GitHub and the docs show them), then clean.
# Usage: scripts/execute_notebooks.sh [nbs/05_model.ipynb ...]   (default: all of nbs/)
#        KEEP_FLAGS=slow,dist scripts/execute_notebooks.sh ...   (those cells are not run and keep their stored outputs)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" MPLBACKEND=module://matplotlib_inline.backend_inline PYTHONHASHSEED=0
python scripts/execute_notebooks.py ${KEEP_FLAGS:+--keep "$KEEP_FLAGS"} "$@"

#!/usr/bin/env bash
# Execute notebooks in place (outputs and figures are stored, so GitHub and the docs show them), then clean.
# Usage: scripts/execute_notebooks.sh [nbs/05_model.ipynb ...]   (default: all of nbs/)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" MPLBACKEND=module://matplotlib_inline.backend_inline PYTHONHASHSEED=0
files=("$@"); [ ${#files[@]} -gt 0 ] || files=(nbs/*.ipynb)
for f in "${files[@]}"; do
  echo "==> executing $f"
  (cd "$(dirname "$f")" && jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 "$(basename "$f")")
  nbdev_clean --fname "$f"
done

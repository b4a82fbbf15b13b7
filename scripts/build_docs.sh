#!/usr/bin/env bash
# Build the book (the executed notebooks in nbs/ as a static site) into _site/ — no Quarto, no network.
# Usage: scripts/build_docs.sh [--out DIR] [-q]      then open _site/index.html in a browser (file:// is fine)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
exec .venv/bin/python scripts/build_docs.py "$@"

#!/usr/bin/env bash
# Create .venv inside the checkout and install llama31-edu with its test tools.
# Idempotent: a second run with unchanged settings.ini only checks a stamp file.
#
# torch: on a machine without an NVIDIA GPU we look for a CPU build first, because a plain
# `pip install torch` on Linux pulls a multi-GB CUDA build. Order tried:
#   1. torch already importable in the venv: keep it.
#   2. $LLAMA31_EDU_TORCH (a pip requirement, e.g. "torch==2.5.1") if you set it.
#   3. no GPU: a CPU wheel that pip's find-links already has on disk (no download),
#      then the PyTorch CPU index, then plain PyPI.
#   4. a GPU (nvidia-smi works): plain `pip install torch` (the CUDA build is what you want).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

"$PYTHON" - <<'PY' || { echo "llama31-edu needs Python >= 3.10 (set PYTHON=/path/to/python3.x)"; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)
PY

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

stamp="$VENV/.llama31-edu-installed"
want=$(cat settings.ini setup.py scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$PY" -c "import llama31_edu, torch" 2>/dev/null; then
  exit 0
fi

if ! "$PY" -c "import torch" 2>/dev/null; then
  if [ -n "${LLAMA31_EDU_TORCH:-}" ]; then
    echo "==> installing $LLAMA31_EDU_TORCH (from LLAMA31_EDU_TORCH)"
    "${PIP[@]}" install "$LLAMA31_EDU_TORCH"
  elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "==> NVIDIA GPU found: installing the default (CUDA) torch build"
    "${PIP[@]}" install "torch>=2.6"
  else
    echo "==> no GPU: looking for a CPU build of torch"
    if "${PIP[@]}" install --no-index --no-deps "torch>=2.6" >/dev/null 2>&1; then
      v=$("$PY" -c "import importlib.metadata as m; print(m.version('torch'))")
      echo "    using the local wheel torch==$v"
      "${PIP[@]}" install "torch==$v"          # its dependencies, from the index
    elif "${PIP[@]}" install --timeout 20 "torch>=2.6" --index-url https://download.pytorch.org/whl/cpu \
           --extra-index-url https://pypi.org/simple; then
      echo "    installed from the PyTorch CPU index"
    else
      echo "    no CPU build reachable; installing torch from PyPI"
      "${PIP[@]}" install "torch>=2.6"
    fi
  fi
fi

echo "==> installing llama31-edu (editable) with its dev tools"
"${PIP[@]}" install -q -e ".[dev]"
echo "$want" > "$stamp"

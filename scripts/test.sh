#!/usr/bin/env bash
# Run every check the project has. Used by `make test` and by CI (.ci/run).
#   1. llama31_edu/ must be exactly what `nbdev_export` makes from nbs/ (never edit it by hand)
#   2. notebooks must be clean (`nbdev_clean`), README.md must be what nbs/index.ipynb makes
#   3. `nbdev_test` runs every notebook (cells flagged slow/dist/gpu are skipped; TEST_FLAGS="slow dist" runs them)
#   4. pytest runs tests/ (multi-process and kill-and-resume tests that do not fit in a notebook)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PYTHONHASHSEED=0 MPLBACKEND=Agg TOKENIZERS_PARALLELISM=false
fail=0; passed=0; failed=0

digest() { find "$@" -type f \( -name '*.py' -o -name '*.ipynb' -o -name '*.md' \) -print0 2>/dev/null | sort -z | xargs -0 sha256sum | sha256sum; }

echo "==> nbdev_export: is llama31_edu/ in sync with nbs/?"
before=$(digest llama31_edu)
nbdev_export || { echo "FAIL: nbdev_export"; fail=1; }
if [ "$before" != "$(digest llama31_edu)" ]; then
  echo "FAIL: llama31_edu/ was out of sync with nbs/ (nbdev_export changed it; commit the result, never hand-edit llama31_edu/)"
  git --no-pager diff --stat -- llama31_edu 2>/dev/null | tail -5
  fail=1; failed=$((failed+1))
else passed=$((passed+1)); fi

echo "==> nbdev_clean: are the notebooks clean?"
before=$(digest nbs)
nbdev_clean >/dev/null || { echo "FAIL: nbdev_clean"; fail=1; }
if [ "$before" != "$(digest nbs)" ]; then
  echo "FAIL: notebooks were not clean (nbdev_clean changed them; commit the result)"; fail=1; failed=$((failed+1))
else passed=$((passed+1)); fi

echo "==> README.md generated from nbs/index.ipynb?"
if python scripts/make_readme.py --check; then passed=$((passed+1)); else fail=1; failed=$((failed+1)); fi

echo "==> nbdev_test (flags: ${TEST_FLAGS:-none})"
if nbdev_test --n_workers "${NBDEV_WORKERS:-2}" --timing ${TEST_FLAGS:+--flags "$TEST_FLAGS"}; then
  n=$(ls nbs/*.ipynb | wc -l); passed=$((passed+n))
else
  echo "FAIL: nbdev_test"; fail=1; failed=$((failed+1))
fi

if ls tests/test_*.py >/dev/null 2>&1; then
  echo "==> pytest tests/"
  python -m pytest -q tests ${PYTEST_ARGS:-}
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then fail=1; fi
fi

echo "checks and notebooks: $passed passed, $failed failed"
exit $fail

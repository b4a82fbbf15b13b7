# The README's commands. Each one sets up .venv (once) and then does its job.
.PHONY: setup demo test test-slow test-dist docs execute export lab clean-venv
setup:
	@bash scripts/setup.sh
demo: setup
	.venv/bin/llama31-edu demo
test: setup
	bash scripts/test.sh
test-slow: setup          # the heavy cells: longer parity sweeps, long training runs
	TEST_FLAGS="slow" PYTEST_ARGS="-m slow" bash scripts/test.sh
test-dist: setup          # multi-process (torchrun) cells
	TEST_FLAGS="dist" bash scripts/test.sh
export: setup             # regenerate llama31_edu/ and README.md from nbs/
	.venv/bin/nbdev_export && .venv/bin/python scripts/make_readme.py
execute: setup            # re-run every notebook in place so the stored outputs and figures are fresh
	bash scripts/execute_notebooks.sh
docs: setup               # the book: nbs/ rendered as a static site in _site/ (open _site/index.html)
	bash scripts/build_docs.sh
lab: setup                # the notebooks in JupyterLab, with the project's environment as the kernel
	.venv/bin/python -m ipykernel install --sys-prefix --name llama31-edu --display-name "llama31-edu (.venv)" >/dev/null
	.venv/bin/jupyter lab --notebook-dir nbs $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)
clean-venv:
	rm -rf .venv

"""Execute notebooks in place, so their stored outputs and figures are fresh; then `nbdev_clean` them.

    python scripts/execute_notebooks.py nbs/05_model.ipynb ...       # every cell, slow ones too
    python scripts/execute_notebooks.py --keep slow,dist nbs/*.ipynb  # cells flagged #| slow or #| dist are not run:
                                                                      # they keep the outputs stored from their last run
Each notebook runs in its own folder (nbs/), as `nbdev_test` runs it.
"""
from __future__ import annotations
import argparse, re, subprocess, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

FLAG = re.compile(r"^#\|\s*(\w+)\s*$")
NO_EVAL = re.compile(r"^#\|\s*eval:\s*false\s*$")


def flags(cell) -> set[str]:
    "The nbdev test flags (`#| slow`, `#| dist`, `#| gpu`) on a cell's first lines."
    out = set()
    for line in cell.source.splitlines():
        if not line.startswith("#|"): break
        if NO_EVAL.match(line.strip()): out.add("eval: false")
        elif m := FLAG.match(line.strip()): out.add(m.group(1))
    return out


class KeepFlagged(NotebookClient):
    "Runs every cell except `#| eval: false` ones and those carrying one of `keep`'s flags, which keep the outputs they have."
    keep: set[str] = set()

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type == "code" and flags(cell) & (self.keep | {"eval: false"}): return cell   # nbdev never runs those
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)


def execute(path: Path, keep: set[str], timeout: int = 900) -> float:
    nb = nbformat.read(path, as_version=4)
    client = KeepFlagged(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.keep = keep
    t0 = time.time()
    client.execute()
    nbformat.write(nb, path)
    subprocess.run(["nbdev_clean", "--fname", str(path)], check=True)
    return time.time() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--keep", default="", help="comma-separated flags whose cells are not run and keep their outputs")
    a = ap.parse_args(argv)
    keep = {f for f in a.keep.split(",") if f}
    files = a.notebooks or sorted(Path("nbs").glob("*.ipynb"))
    for f in files:
        print(f"==> executing {f}" + (f" (keeping the stored outputs of {', '.join(sorted(keep))} cells)" if keep else ""), flush=True)
        print(f"    {execute(f, keep):.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which registries cannot install).

Markdown cells are copied, code cells become fenced Python with their text output; cells marked
`#| hide` are left out; links to other notebooks get the `nbs/` prefix. `--check` exits 1 when README.md differs from what the notebook makes.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def render(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        lines = src.splitlines()
        directives = [l for l in lines if l.startswith("#|")]
        if any(d.replace(" ", "") in ("#|hide", "#|include:false") for d in directives): continue
        body = "\n".join(l for l in lines if not l.startswith("#|")).strip("\n")
        if not body: continue
        if cell["cell_type"] == "markdown":
            # Links between chapters are relative to nbs/ (so they work in Jupyter and the book); README sits one up.
            parts.append(re.sub(r"\]\((?!https?:|/|#)([^)]+\.ipynb)\)", r"](nbs/\1)", body))
        elif cell["cell_type"] == "code":
            parts.append(f"```python\n{body}\n```")
            out = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            if out.strip(): parts.append(f"```\n{out.rstrip()}\n```")
    header = "<!-- Generated from nbs/index.ipynb by scripts/make_readme.py; edit the notebook, not this file. -->\n\n"
    return header + "\n\n".join(parts) + "\n"

def main():
    text = render(ROOT / "nbs" / "index.ipynb")
    readme = ROOT / "README.md"
    if "--check" in sys.argv:
        if not readme.exists() or readme.read_text(encoding="utf-8") != text:
            print("FAIL: README.md is not what nbs/index.ipynb makes: run `python scripts/make_readme.py`")
            sys.exit(1)
        return
    readme.write_text(text, encoding="utf-8")
    print(f"wrote {readme}")

if __name__ == "__main__": main()

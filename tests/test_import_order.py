"""A module imports only earlier chapters: read each `llama31_edu/*.py`'s imports of the package (at the top or inside
functions) and compare the chapter numbers of the notebooks they come from."""
import ast, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def chapters() -> dict[str, int]:
    "{module name: chapter number}, from each notebook's `#| default_exp`."
    out = {}
    for nb in sorted((ROOT / "nbs").glob("[0-9][0-9]_*.ipynb")):
        m = re.search(r"#\|\s*default_exp\s+(\w+)", nb.read_text())
        if m: out[m[1]] = int(nb.name[:2])
    return out


def imported_modules(path: Path) -> set[str]:
    "Package modules `path` imports: `from .x import`, `from llama31_edu.x import`, `import llama31_edu.x`."
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level: found.add(mod.split(".")[0] if mod else "")
            elif mod.startswith("llama31_edu."): found.add(mod.split(".")[1])
            elif mod == "llama31_edu": found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("llama31_edu."))
    return found - {""}


def test_modules_import_only_earlier_chapters():
    ch = chapters()
    assert {"tokenizer", "train", "distributed", "cli"} <= set(ch), ch
    bad = []
    for mod, n in ch.items():
        for dep in imported_modules(ROOT / "llama31_edu" / f"{mod}.py"):
            if dep in ch and ch[dep] >= n and dep != mod: bad.append(f"{mod} (chapter {n}) imports {dep} (chapter {ch[dep]})")
    assert not bad, "; ".join(bad)


def test_the_check_catches_a_late_import(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("from .distributed import x\ndef f():\n    from llama31_edu.generate import y\nimport llama31_edu.chat\n")
    assert imported_modules(p) == {"distributed", "generate", "chat"}

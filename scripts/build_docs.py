"""Build the book: the executed notebooks in nbs/ rendered as a static HTML site (Sphinx + myst-nb).

nbdev's own `nbdev_docs` needs Quarto, which the package registries cannot install, so this script
does the part of nbdev's pipeline the book needs and hands the result to Sphinx:

1. Each notebook in nbs/ is copied into a staging folder with nbdev's directives applied
   (`#| hide`, `#| include: false` and `#| default_exp` cells dropped; `#| echo: false`,
   `#| output: false`, `#| code-fold`, `#| hide_line`, `#| filter_stream` honoured; `#|` lines and
   magics removed from the code shown). Stored outputs are kept as they are: nothing is executed.
2. Where nbdev would put a `show_doc` cell (after every `#| export`/`#| exports` cell, for each
   public function and class it defines; or an explicit `show_doc(X)` call) the staged notebook gets
   a Sphinx autodoc entry for the same object, so signatures link to PyTorch's docs and backticked
   names in the prose (`precompute_freqs_cis`, `torch.polar`, `F.scaled_dot_product_attention`)
   link to their API entries.
3. PyTorch's intersphinx inventory lives online; instead we write one from the installed torch
   (its public names, with the page layout of docs.pytorch.org), so the build needs no network.
4. `index.ipynb` gets a hidden table of contents: every other notebook, in file-name order.

Usage: python scripts/build_docs.py [--out _site] [--stage DIR] [--nbs nbs] [-q]
Open `<out>/index.html` in a browser: every link is relative, MathJax ships with the site.
"""
from __future__ import annotations
import argparse, copy, json, os, re, shutil, subprocess, sys, tempfile, zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH_DOCS = "https://docs.pytorch.org/docs/stable/"
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}

# ---------------------------------------------------------------- nbdev directives
_re_directive = re.compile(r"^\s*#\|\s*(.*?)\s*$")
_re_ansi = re.compile(r"\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])")
_re_magic = re.compile(r"^\s*%{1,2}\w.*$", re.MULTILINE)


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def directives(source: str) -> dict[str, list[str]]:
    "nbdev's cell directives: the `#| key: value` lines at the top of a cell (blank lines allowed)."
    out = {}
    for line in source.splitlines():
        if not line.strip(): continue
        m = _re_directive.match(line)
        if not m: break
        key, *rest = m.group(1).split(None, 1)
        out[key.rstrip(":").lower()] = rest[0].split() if rest else []
    return out


def strip_directives(source: str) -> str:
    lines = source.splitlines()
    i = 0
    while i < len(lines) and (not lines[i].strip() or _re_directive.match(lines[i])): i += 1
    body = [l for l in lines[i:] if not re.search(r"#\|\s*hide_line\s*$", l)]
    return _re_magic.sub("", "\n".join(body)).strip("\n")


def _flag(d, key) -> str | None:
    v = d.get(key)
    return None if v is None else (v[0].lower() if v else "true")


# ---------------------------------------------------------------- what the API entries document
def load_modidx() -> dict[str, str]:
    "{'llama31_edu.rope.apply_rotary_emb': 'llama31_edu.rope', ...} from nbdev's index of the package."
    ns = {}
    path = ROOT / "llama31_edu" / "_modidx.py"
    if not path.exists(): return {}
    exec(path.read_text(encoding="utf-8"), ns)
    return {sym: mod for mod, syms in ns["d"].get("syms", {}).items() for sym in syms}


def _default_exp(nb) -> str | None:
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            d = directives(_src(c))
            if d.get("default_exp"): return d["default_exp"][0]
    return None


def _def_names(source: str) -> list[str]:
    "Public functions and classes a cell defines, named as nbdev's show_doc would (`Class.method` for @patch)."
    import ast
    try: tree = ast.parse(strip_directives(source))
    except SyntaxError: return []
    names = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): continue
        if node.name.startswith("_") and not node.name.startswith("__"): continue
        patched = None
        for dec in getattr(node, "decorator_list", []):
            if isinstance(dec, ast.Name) and dec.id in ("patch", "patch_to"): patched = True
        if patched and node.args.args and node.args.args[0].annotation is not None:
            ann = node.args.args[0].annotation
            if isinstance(ann, ast.Name): names.append(f"{ann.id}.{node.name}"); continue
        names.append(node.name)
    return names


_re_showdoc = re.compile(r"^\s*show_doc\(\s*([A-Za-z_][\w.]*)\s*(?:,[^\n]*)?\)\s*;?\s*$")


def _showdoc_names(source: str) -> list[str] | None:
    "Names shown by a cell made only of `show_doc(X)` lines, else None."
    lines = [l for l in strip_directives(source).splitlines() if l.strip() and not l.strip().startswith("#")]
    if not lines: return None
    names = [(_re_showdoc.match(l) or [None, None])[1] for l in lines]
    return names if all(names) else None


class Api:
    "Resolves names to `llama31_edu.*` objects and writes their autodoc entries (each indexed once)."

    def __init__(self, modidx: dict[str, str]):
        self.modidx, self.documented, self.explicit = modidx, set(), set()

    def resolve(self, name: str, module: str | None) -> str | None:
        if name.startswith("llama31_edu.") and self._importable(name): return name
        cands = ([f"llama31_edu.{module}.{name}"] if module else []) + \
                sorted(f for f in self.modidx if f.endswith("." + name) and f.count(".") == name.count(".") + 2)
        for full in cands:
            if full in self.modidx or self._importable(full): return full
        return None

    @staticmethod
    def _importable(full: str) -> bool:
        return _import(full) is not None

    def entry(self, full: str) -> str:
        """A MyST `py:function`/`py:class`/`py:method` entry for `full`: signature (types link to their
        docs), docstring (markdown, as nbdev writes it) and nbdev's parameter table from docments.
        (Sphinx's autodoc would need an eval-rst block per entry, which myst-nb parses very slowly.)"""
        import inspect
        obj = _import(full)
        mod = full.split(".")[0] + "." + full.split(".")[1]
        name = full[len(mod) + 1:]
        if inspect.isclass(obj):
            members = [m for m in _documented_members(obj) if f"{full}.{m}" not in self.explicit]
            body = [_doc_md(obj)]
            for m in members:
                body.append(_directive("py:method", m, vars(obj)[m], None, self._noindex(f"{full}.{m}"), 3))
            return _directive("py:class", name, obj, mod, self._noindex(full), 4, "\n\n".join(body))
        kind = "py:method" if "." in name else "py:function"
        return _directive(kind, name, obj, mod, self._noindex(full), 3)

    def _noindex(self, full: str) -> bool:
        seen = full in self.documented
        self.documented.add(full)
        return seen


def _signature(obj) -> str:
    import inspect
    from sphinx.util.inspect import stringify_signature
    fn = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
    try: sig = inspect.signature(fn, eval_str=True)
    except Exception:
        try: sig = inspect.signature(fn)
        except Exception: return "()"
    params = list(sig.parameters.values())
    if params and params[0].name in ("self", "cls") and not inspect.isclass(obj):
        sig = sig.replace(parameters=params[1:])
    if inspect.isclass(obj): sig = sig.replace(return_annotation=inspect.Signature.empty)
    return re.sub(r"\s+", " ", stringify_signature(sig))


def _doc_md(obj) -> str:
    "The docstring (markdown) and, as nbdev's show_doc has it, a table of the parameters' comments."
    import inspect
    fn = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
    doc = inspect.getdoc(fn) or ""
    if inspect.isclass(fn) and (doc == inspect.getdoc(object) or doc.startswith(fn.__name__ + "(")):
        doc = ""  # object's docstring, or the one @dataclass writes (the signature again)
    rows = []
    try:
        from fastcore.docments import docments
        target = fn.__init__ if inspect.isclass(fn) else fn
        for pname, d in docments(target, full=True, returns=True).items():
            if pname in ("self", "cls") or not d.get("docment"): continue
            comment = re.sub(r"\s+", " ", d["docment"]).replace("|", "\\|")
            rows.append(f"| {'**returns**' if pname == 'return' else f'`{pname}`'} | {comment} |")
    except Exception:
        pass
    table = "\n".join(["| | Details |", "|---|---|", *rows]) if rows else ""
    return "\n\n".join(x for x in (doc, table) if x)


def _directive(kind, name, obj, module, noindex, colons, body=None) -> str:
    import inspect
    fence = ":" * colons
    opts = []
    if module: opts.append(f":module: {module}")
    if noindex: opts.append(":no-index:")
    if isinstance(obj, staticmethod): opts.append(":staticmethod:")
    if isinstance(obj, classmethod): opts.append(":classmethod:")
    text = _doc_md(obj) if body is None else body
    return "\n".join([f"{fence}{{{kind}}} {name}{_signature(obj)}", *opts, "", text, fence])


def _import(full: str):
    import importlib
    parts = full.split(".")
    for i in range(len(parts), 0, -1):
        try: obj = importlib.import_module(".".join(parts[:i]))
        except Exception: continue
        try:
            for p in parts[i:]: obj = getattr(obj, p)
            return obj
        except AttributeError: return None
    return None


def _documented_members(cls) -> list[str]:
    "Methods a class defines itself, with a docstring, that are public or `__call__`/`forward`-like."
    out = []
    for name, val in vars(cls).items():
        if name.startswith("_") and name != "__call__": continue
        fn = val.__func__ if isinstance(val, (staticmethod, classmethod)) else val
        if isinstance(fn, property): fn = fn.fget
        if callable(fn) and getattr(fn, "__doc__", None): out.append(name)
    return out


# ---------------------------------------------------------------- links from backticked names
_re_code_span = re.compile(r"(?<![`\\])`([^`\n]+)`(?!`)")
_ALIASES = {"F.": "torch.nn.functional.", "nn.": "torch.nn.", "dist.": "torch.distributed.", "optim.": "torch.optim."}


class Linker:
    def __init__(self, torch_names: set[str], api: Api):
        self.torch, self.api = torch_names, api
        self.short = {}  # 'precompute_freqs_cis' / 'Transformer.forward' -> full name
        for full in sorted(api.documented):
            tail = full.split(".", 2)[2]  # drop 'llama31_edu.<module>.'
            self.short.setdefault(tail, full)

    def target(self, text: str) -> str | None:
        name = text.strip()
        name = name[:-2] if name.endswith("()") else name
        if not re.fullmatch(r"[A-Za-z_][\w.]*", name): return None
        if name in self.api.documented: return name
        if name in self.short: return self.short[name]
        for a, full in _ALIASES.items():
            if name.startswith(a): name = full + name[len(a):]; break
        return name if name in self.torch else None

    def linkify(self, md: str) -> str:
        out, fence = [], None
        for line in md.split("\n"):
            s = line.lstrip()
            if fence:
                if s.startswith(fence): fence = None
                out.append(line); continue
            m = re.match(r"(`{3,}|~{3,})", s)
            if m: fence = m.group(1); out.append(line); continue
            out.append(self._line(line))
        return "\n".join(out)

    def _line(self, line: str) -> str:
        def sub(m):
            text, start, end = m.group(1), m.start(), m.end()
            if line[start - 1:start] == "[" and line[end:end + 1] == "]": return m.group(0)  # already a link
            if line[start - 1:start] == "}": return m.group(0)  # a role's body
            t = self.target(text)
            return f"{{py:obj}}`{text} <{t}>`" if t and "<" not in text else m.group(0)
        # leave $...$ math alone
        parts = re.split(r"(\$\$?[^$]+\$\$?)", line)
        return "".join(p if p.startswith("$") else _re_code_span.sub(sub, p) for p in parts)


# ---------------------------------------------------------------- PyTorch inventory, written offline
def _torch_pages() -> dict[str, tuple[str, str]]:
    "{full name: (role, page#anchor)} for torch's public API, on docs.pytorch.org's page layout."
    import inspect, torch
    import torch.nn.functional, torch.nn.init, torch.optim, torch.optim.lr_scheduler, torch.utils.data
    import torch.distributed
    inv = {}

    def add(full, role, uri): inv.setdefault(full, (role, uri))

    def role_of(obj): return "py:class" if inspect.isclass(obj) else "py:function"

    def public(mod, names=None):
        for n in (names if names is not None else getattr(mod, "__all__", None) or dir(mod)):
            if n.startswith("_"): continue
            try: obj = getattr(mod, n)
            except Exception: continue
            if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)): continue
            yield n, obj

    add("torch", "py:module", "torch.html")
    add("torch.Tensor", "py:class", "tensors.html#torch.Tensor")
    for n in ("dtype", "device", "layout", "memory_format"):
        add(f"torch.{n}", "py:class", f"tensor_attributes.html#torch.{n}")
    add("torch.Size", "py:class", "size.html#torch.Size")
    add("torch.autocast", "py:class", "amp.html#torch.autocast")
    for n, obj in public(torch):
        add(f"torch.{n}", role_of(obj), f"generated/torch.{n}.html#torch.{n}")
    for n in dir(torch.Tensor):
        if n.startswith("_") or not getattr(getattr(torch.Tensor, n, None), "__doc__", None): continue
        add(f"torch.Tensor.{n}", "py:method", f"generated/torch.Tensor.{n}.html#torch.Tensor.{n}")
    add("torch.nn", "py:module", "nn.html")
    for n, obj in public(torch.nn, [k for k in dir(torch.nn) if inspect.isclass(getattr(torch.nn, k, None))]):
        add(f"torch.nn.{n}", "py:class", f"generated/torch.nn.{n}.html#torch.nn.{n}")
    for n in dir(torch.nn.Module):
        if not n.startswith("_") and callable(getattr(torch.nn.Module, n)):
            add(f"torch.nn.Module.{n}", "py:method", f"generated/torch.nn.Module.html#torch.nn.Module.{n}")
    add("torch.nn.functional", "py:module", "nn.functional.html")
    for n, obj in public(torch.nn.functional):
        add(f"torch.nn.functional.{n}", "py:function", f"generated/torch.nn.functional.{n}.html#torch.nn.functional.{n}")
    for n, obj in public(torch.nn.init):
        add(f"torch.nn.init.{n}", "py:function", f"nn.init.html#torch.nn.init.{n}")
    add("torch.nn.parallel.DistributedDataParallel", "py:class",
        "generated/torch.nn.parallel.DistributedDataParallel.html#torch.nn.parallel.DistributedDataParallel")
    for n, obj in public(torch.optim):
        if inspect.isclass(obj): add(f"torch.optim.{n}", "py:class", f"generated/torch.optim.{n}.html#torch.optim.{n}")
    for n, obj in public(torch.optim.lr_scheduler):
        if inspect.isclass(obj):
            add(f"torch.optim.lr_scheduler.{n}", "py:class",
                f"generated/torch.optim.lr_scheduler.{n}.html#torch.optim.lr_scheduler.{n}")
    for n, obj in public(torch.utils.data):
        add(f"torch.utils.data.{n}", role_of(obj), f"data.html#torch.utils.data.{n}")
    add("torch.distributed", "py:module", "distributed.html")
    for n, obj in public(torch.distributed):
        add(f"torch.distributed.{n}", role_of(obj), f"distributed.html#torch.distributed.{n}")
    try:
        import torch.distributed.fsdp as fsdp
        add("torch.distributed.fsdp.fully_shard", "py:function",
            "distributed.fsdp.fully_shard.html#torch.distributed.fsdp.fully_shard")
        add("torch.distributed.fsdp.FullyShardedDataParallel", "py:class",
            "fsdp.html#torch.distributed.fsdp.FullyShardedDataParallel")
    except Exception: pass
    try:
        import torch.cuda
        for n, obj in public(torch.cuda):
            add(f"torch.cuda.{n}", role_of(obj), f"generated/torch.cuda.{n}.html#torch.cuda.{n}")
    except Exception: pass
    return inv


def write_torch_inventory(path: Path) -> set[str]:
    "Write an intersphinx `objects.inv` (version 2) for torch; return the names it holds."
    import torch, warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # walking torch's namespaces touches deprecated aliases
        inv = _torch_pages()
    lines = [f"{full} {role} 1 {uri} -" for full, (role, uri) in sorted(inv.items())]
    header = ("# Sphinx inventory version 2\n# Project: PyTorch\n"
              f"# Version: {torch.__version__.split('+')[0]}\n"
              "# The remainder of this file is compressed using zlib.\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + zlib.compress(("\n".join(lines) + "\n").encode()))
    return set(inv)


# ---------------------------------------------------------------- one notebook
def _md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def stage_notebook(nb: dict, api: Api, pending: list) -> dict:
    "nbdev's directives applied; API entries inserted as placeholders (`pending`) filled once all are known."
    module = _default_exp(nb)
    cells = []
    for cell in nb["cells"]:
        src = _src(cell)
        kind = cell["cell_type"]
        if kind == "raw": continue  # nbdev front matter (YAML) or Quarto-only content
        if kind == "markdown":
            s = src.strip()
            if s.startswith("#") and s.endswith(" -") and "\n" not in s: continue  # nbdev: heading ending in ' -'
            c = {"cell_type": "markdown", "metadata": {}, "source": src}
            if cell.get("attachments"): c["attachments"] = cell["attachments"]
            cells.append(c); continue
        d = directives(src)
        if "hide" in d or _flag(d, "include") == "false" or "default_exp" in d: continue
        sd = _showdoc_names(src)
        if sd is not None:
            fulls = [api.resolve(n, module) for n in sd]
            if all(fulls):
                for f in fulls: api.explicit.add(f)
                ph = _md(""); pending.append((ph, fulls)); cells.append(ph); continue
            c = copy.deepcopy(cell); c["source"] = ""; cells.append(_finish_code(c, {"echo": ["false"]})); continue
        c = copy.deepcopy(cell)
        c["source"] = strip_directives(src)
        if not c["source"] and not c.get("outputs"): continue
        cells.append(_finish_code(c, d))
        if ("export" in d or "exports" in d or "exec_doc" in d):
            fulls = [f for f in (api.resolve(n, module) for n in _def_names(src)) if f]
            if fulls:
                ph = _md(""); pending.append((ph, fulls)); cells.append(ph)
    for i, c in enumerate(cells): c["id"] = f"cell-{i}"
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def _finish_code(c: dict, d: dict) -> dict:
    tags = []
    if _flag(d, "echo") == "false": tags.append("remove-input")
    if _flag(d, "output") == "false": tags.append("remove-output")
    if _flag(d, "code-fold") in ("true", "show"): tags.append("hide-input")
    words = d.get("filter_stream", [])
    outs = []
    for o in c.get("outputs", []):
        if o.get("output_type") == "stream":
            text = o["text"] if isinstance(o["text"], str) else "".join(o["text"])
            text = _re_ansi.sub("", text)
            if words: text = "".join(l for l in text.splitlines(True) if not any(w in l for w in words))
            o = {**o, "text": text}
        elif o.get("output_type") == "error":
            o = {**o, "traceback": [_re_ansi.sub("", t) for t in o.get("traceback", [])]}
        outs.append(o)
    c["outputs"] = outs
    c["metadata"] = {"tags": tags} if tags else {}
    c.pop("id", None)
    c.setdefault("execution_count", None)
    return c


def _toc_entry(name: str, nb: dict) -> str:
    "`12. The model card by the numbers <12_scaling>`: the chapter's number (from its file name) and title."
    title = next((m.group(1).strip() for c in nb["cells"] if c["cell_type"] == "markdown"
                  for m in [re.search(r"^#\s+(.+)$", c["source"], re.MULTILINE)] if m), None)
    num = re.match(r"(\d+)_", name)
    if not title or "<" in title or "`" in title: return name
    return f"{int(num.group(1))}. {title} <{name}>" if num else f"{title} <{name}>"


def stage(nbs: Path, dst: Path) -> list[str]:
    "Write the staged notebooks (and images next to them) into dst; return the page names in reading order."
    dst.mkdir(parents=True, exist_ok=True)
    paths = sorted(p for p in nbs.glob("*.ipynb") if not p.name.startswith(("_", ".")))
    if not any(p.stem == "index" for p in paths):
        raise FileNotFoundError(f"{nbs}/index.ipynb is missing: the book's first page is made from it")
    order = ["index"] + [p.stem for p in paths if p.stem != "index"]
    for p in nbs.rglob("*"):
        if p.suffix.lower() in IMAGE_EXTS and ".ipynb_checkpoints" not in p.parts:
            (dst / p.relative_to(nbs)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, dst / p.relative_to(nbs))
    api, pending, staged = Api(load_modidx()), [], {}
    for p in paths:
        try: nb = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e: raise ValueError(f"{p} is not valid notebook JSON ({e}); fix or remove it") from e
        staged[p.stem] = stage_notebook(nb, api, pending)
    # API entries in reading order, so an object is indexed where it is first shown
    api.documented = set()
    for ph, fulls in pending: ph["source"] = "\n\n".join(api.entry(f) for f in fulls)
    linker = Linker(write_torch_inventory(dst / "_inv" / "torch.inv"), api)
    for name, nb in staged.items():
        for c in nb["cells"]:
            if c["cell_type"] == "markdown":
                c["source"] = linker.linkify(c["source"])
        if name == "index":
            toc = "\n".join(_toc_entry(n, staged[n]) for n in order[1:])
            nb["cells"].append({**_md(f"```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n```"), "id": "toc"})
        (dst / f"{name}.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return order


def build(out: Path, stage_dir: Path | None = None, nbs: Path = ROOT / "nbs", quiet: bool = False) -> list[str]:
    "Stage the notebooks and run Sphinx; returns the pages in reading order."
    tmp = None
    if stage_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="llama31-edu-docs-")
        stage_dir = Path(tmp.name)
    try:
        order = stage(Path(nbs), Path(stage_dir) / "src")
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(ROOT / "docs"),
               "-d", str(Path(stage_dir) / "doctrees"), "--keep-going", "-E",
               str(Path(stage_dir) / "src"), str(out)]
        if quiet: cmd.insert(3, "-q")
        env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
        r = subprocess.run(cmd, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"sphinx-build failed (exit {r.returncode}); its messages are above")
        return order
    finally:
        if tmp is not None: tmp.cleanup()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "_site"), help="output folder (default: _site/)")
    ap.add_argument("--stage", default=None, help="keep the staged notebooks and doctrees here (default: a temp dir)")
    ap.add_argument("--nbs", default=str(ROOT / "nbs"), help="notebook folder (default: nbs/)")
    ap.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    a = ap.parse_args(argv)
    order = build(Path(a.out), Path(a.stage) if a.stage else None, Path(a.nbs), a.quiet)
    print(f"built {len(order)} pages into {a.out}; open {Path(a.out).resolve() / 'index.html'}")


if __name__ == "__main__": main()

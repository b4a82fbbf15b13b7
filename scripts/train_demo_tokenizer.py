"""Train the demo tokenizer: 4,096 byte-level BPE ranks on data/shakespeare.txt, saved as data/demo_tokenizer.model.

    python scripts/train_demo_tokenizer.py [--check]

Deterministic (ties between equally frequent pairs go to the pair of smallest ids), so running it again
reproduces the committed file byte for byte; `--check` verifies that instead of writing.
"""
from __future__ import annotations
import argparse, hashlib, sys, tempfile, time
from pathlib import Path
from llama31_edu.tokenizer import DEMO_CORPUS, DEMO_TOKENIZER, DEMO_VOCAB_RANKS, train_bpe, save_tiktoken_bpe

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="retrain and compare with the committed file, write nothing")
    args = ap.parse_args(argv)
    text = DEMO_CORPUS.read_text(encoding="utf-8")
    t0 = time.perf_counter()
    ranks = train_bpe(text, DEMO_VOCAB_RANKS)
    print(f"trained {len(ranks):,} ranks on {len(text):,} characters of {DEMO_CORPUS.name} in {time.perf_counter() - t0:.1f} s")
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            new = save_tiktoken_bpe(ranks, Path(tmp) / "demo_tokenizer.model").read_bytes()
        same = new == DEMO_TOKENIZER.read_bytes()
        print(f"{DEMO_TOKENIZER}: {'identical' if same else 'DIFFERENT'} (sha256 {hashlib.sha256(new).hexdigest()[:16]}...)")
        return 0 if same else 1
    save_tiktoken_bpe(ranks, DEMO_TOKENIZER)
    print(f"wrote {DEMO_TOKENIZER} (sha256 {hashlib.sha256(DEMO_TOKENIZER.read_bytes()).hexdigest()})")
    return 0

if __name__ == "__main__":
    sys.exit(main())

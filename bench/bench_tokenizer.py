"""Encode throughput: llama31_edu's Tokenizer against a bare tiktoken.Encoding with the same ranks, and the
from-scratch BytePairEncoder's slowdown. Timings are interleaved (A, B, A, B, ...) and we report medians of
the process's CPU time (everything here runs on one thread; on a shared machine wall time mostly measures the
neighbours). `--wall` uses wall-clock time instead.

    python bench/bench_tokenizer.py [--repeats 7] [--chars 1500000]

Goal: ours / bare tiktoken throughput >= 0.95 (our encode adds only the 400k-character slicing and a
block scan for long runs on top of tiktoken's Rust core).
"""
from __future__ import annotations
import argparse, statistics, time
import tiktoken
from llama31_edu.tokenizer import (BytePairEncoder, DEMO_CORPUS, DEMO_TOKENIZER, LLAMA3_PAT_STR, SAMPLE_TEXTS,
                                   TIKTOKEN_MAX_ENCODE_CHARS, Tokenizer, split_long_runs)

CLOCK = time.process_time

def bench(fns: dict, repeats: int) -> dict:
    "Median seconds of each function, calls interleaved so that machine load hits all of them alike."
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = CLOCK(); f(); times[k].append(CLOCK() - t0)
    return {k: statistics.median(v) for k, v in times.items()}

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--chars", type=int, default=1_500_000, help="characters of each text")
    ap.add_argument("--scratch-chars", type=int, default=200_000, help="characters for the (slow) pure-Python encoder")
    ap.add_argument("--wall", action="store_true", help="time with wall-clock time instead of CPU time")
    args = ap.parse_args(argv)
    global CLOCK
    if args.wall: CLOCK = time.perf_counter

    shakespeare = DEMO_CORPUS.read_text(encoding="utf-8")[:args.chars]
    multi = "\n\n".join(SAMPLE_TEXTS.values())
    multilingual = (multi * (args.chars // len(multi) + 1))[:args.chars]
    print(f"texts: Shakespeare {len(shakespeare):,} chars, multilingual {len(multilingual):,} chars; "
          f"median {'wall' if args.wall else 'CPU'} time of {args.repeats} interleaved repeats\n")

    try: from llama_models.llama3.tokenizer import Tokenizer as MetaTokenizer
    except ImportError: MetaTokenizer = None

    print(f"{'tokenizer':10} {'text':13} {'bare tiktoken':>14} {'llama31_edu':>12} {'ratio':>6} {'Meta ref':>9} {'ratio':>6}"
          f"  {'our slicing alone':>17}")
    for name, path in [("llama3", None), ("demo", DEMO_TOKENIZER)]:
        tok = Tokenizer(path)
        bare = tiktoken.Encoding(name="bare", pat_str=LLAMA3_PAT_STR, mergeable_ranks=tok.mergeable_ranks,
                                 special_tokens=tok.special_tokens)
        meta = MetaTokenizer(tok.model_path) if MetaTokenizer and path is None else None
        for tname, text in [("Shakespeare", shakespeare), ("multilingual", multilingual)]:
            if meta: assert tok.encode(text, bos=False, eos=False) == meta.encode(text, bos=False, eos=False)
            fns = {"bare": lambda: bare.encode_ordinary(text), "ours": lambda: tok.encode(text, bos=False, eos=False)}
            if meta: fns["meta"] = lambda: meta.encode(text, bos=False, eos=False)
            t = bench(fns, args.repeats)
            mb = len(text.encode()) / 1e6
            row = (f"{name:10} {tname:13} {mb / t['bare']:9.2f} MB/s {mb / t['ours']:7.2f} MB/s {t['bare'] / t['ours']:6.3f}")
            row += f" {mb / t['meta']:4.2f} MB/s {t['bare'] / t['meta']:6.3f}" if meta else " " * 23
            n = TIKTOKEN_MAX_ENCODE_CHARS
            t_split = bench({"split": lambda: [split_long_runs(text[i:i + n]) for i in range(0, len(text), n)]}, args.repeats)["split"]
            print(row + f"  {t_split * 1e3:6.2f} ms = {100 * t_split / t['bare']:4.2f}%")

    print(f"\nfrom-scratch BytePairEncoder on the first {args.scratch_chars:,} characters: no cache (every chunk merged), "
          f"cold (fresh chunk cache each run), warm (cache already filled)")
    for name, path in [("llama3", None), ("demo", DEMO_TOKENIZER)]:
        tok = Tokenizer(path)
        for tname, text in [("Shakespeare", shakespeare[:args.scratch_chars]), ("multilingual", multilingual[:args.scratch_chars])]:
            warm = BytePairEncoder(tok.mergeable_ranks); warm.encode(text)
            assert warm.encode(text) == tok.model.encode_ordinary(text), "from-scratch encoder must match tiktoken"
            chunks = warm.pattern.findall(text)
            t = bench({"bare": lambda: tok.model.encode_ordinary(text),
                       "nocache": lambda: [i for c in chunks for i in warm.encode_chunk(c.encode("utf-8"))],
                       "cold": lambda: (warm._cache.clear(), warm.encode(text)),
                       "warm": lambda: warm.encode(text)}, max(3, args.repeats // 2))
            print(f"  {name:7} {tname:13} tiktoken {t['bare'] * 1e3:6.0f} ms | pure Python: no cache {t['nocache'] * 1e3:6.0f} ms "
                  f"({t['nocache'] / t['bare']:4.0f}x), cold {t['cold'] * 1e3:6.0f} ms ({t['cold'] / t['bare']:4.1f}x), "
                  f"warm {t['warm'] * 1e3:6.0f} ms ({t['warm'] / t['bare']:4.1f}x)")

if __name__ == "__main__":
    main()

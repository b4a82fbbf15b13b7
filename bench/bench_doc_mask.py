"""What the document mask costs on a CPU: SDPA with a boolean mask against SDPA's causal path, against the explicit
softmax, and against `flex_attention` (eager; it has no CPU backward), in time and in peak memory.

Two levels: one attention call with the demo model's head layout (8 query heads, 4 key/value heads of 32), and
forward+backward of the whole demo-sized model (chapter 13 trains it with the mask at 1,024 tokens). The variants
run alternately (A, B, C, A, B, C, ...) so that a busy machine slows them alike; medians are reported, with the ratio
to the causal path. Peak memory is the rise of the process's peak resident set during one call (Linux: freed memory is
returned with malloc_trim and the peak reset through /proc/self/clear_refs before each call), so it counts every temporary the call allocates.

    .venv/bin/python bench/bench_doc_mask.py [--lengths 256 1024 2048] [--repeats 5] [--threads 2]
"""
from __future__ import annotations
import argparse, ctypes, statistics, time, warnings
import torch
import torch.nn.functional as F
from llama31_edu.attention import document_mask, attention_explicit
from llama31_edu.model import ModelArgs, Transformer

def _rss_kib(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field): return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")

def peak_mib(fn) -> float:
    "MiB by which the process's resident set peaks above its level before `fn()` (Linux, glibc)."
    ctypes.CDLL("libc.so.6").malloc_trim(0)                          # give freed memory back, so that reuse shows
    with open("/proc/self/clear_refs", "w") as f: f.write("5")        # reset VmHWM to the current VmRSS
    before = _rss_kib("VmRSS")
    fn()
    return (_rss_kib("VmHWM") - before) / 1024

def doc_ids_for(B: int, T: int, n_docs: int = 4) -> torch.Tensor:
    "Document ids with `n_docs` documents of equal length per row."
    return (torch.arange(T) * n_docs // T).expand(B, T).contiguous()

def attention_variants(B, H, KVH, T, hd):
    q = torch.randn(B, H, T, hd, requires_grad=True)
    k, v = (torch.randn(B, KVH, T, hd, requires_grad=True) for _ in range(2))
    ids = doc_ids_for(B, T)
    mask = document_mask(ids)
    def train_step(f):
        def run():
            f().sum().backward()
            for t in (q, k, v): t.grad = None
        return run
    out = {"SDPA causal": train_step(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)),
           "SDPA doc mask": train_step(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)),
           "explicit doc mask": train_step(lambda: attention_explicit(q, k, v, mask))}
    try:
        from torch.nn.attention.flex_attention import flex_attention, create_block_mask
        def same_doc(b, h, qi, ki): return (qi >= ki) & (ids[b, qi] == ids[b, ki])
        bm = create_block_mask(same_doc, B, None, T, T, device="cpu")
        qd, kd, vd = (t.detach() for t in (q, k, v))
        def flex_fwd():
            with torch.no_grad(): flex_attention(qd, kd, vd, block_mask=bm, enable_gqa=True)
        out["flex doc mask (forward only)"] = flex_fwd
        def sdpa_fwd():
            with torch.no_grad(): F.scaled_dot_product_attention(qd, kd, vd, attn_mask=mask, enable_gqa=True)
        out["SDPA doc mask (forward only)"] = sdpa_fwd
    except ImportError:
        pass
    return out

def model_variants(B, T):
    torch.manual_seed(0)
    model = Transformer(ModelArgs.from_preset("demo", max_seq_len=max(T, 256)))
    x = torch.randint(0, 4096, (B, T))
    ids = doc_ids_for(B, T)
    def step(doc_ids):
        def run():
            F.cross_entropy(model(x, doc_ids=doc_ids).flatten(0, 1), x.flatten()).backward()
            model.zero_grad(set_to_none=True)
        return run
    return {"model causal": step(None), "model doc mask": step(ids)}

def measure(variants: dict, repeats: int) -> dict:
    for fn in variants.values(): fn()                                  # warm-up
    times = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            t0 = time.perf_counter(); fn(); times[name].append(time.perf_counter() - t0)
    mem = {name: peak_mib(fn) for name, fn in variants.items()}
    return {name: (statistics.median(times[name]), mem[name]) for name in variants}

def report(title: str, res: dict, ref: str):
    print(f"\n{title}")
    t_ref, m_ref = res[ref]
    for name, (t, m) in res.items():
        base = "SDPA doc mask (forward only)" if "forward only" in name else ref
        rt = t / res[base][0]
        print(f"  {name:30s} {1e3 * t:9.1f} ms  x{rt:5.2f}   peak +{m:7.1f} MiB" + (f"  (ratios against {base})" if base != ref else ""))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[256, 1024, 2048])
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    warnings.filterwarnings("ignore", message="flex_attention called without torch.compile")   # that is what we measure
    print(f"torch {torch.__version__}, {a.threads} threads, batch {a.batch}, medians of {a.repeats} interleaved repeats; "
          f"ratios against the causal path measured in the same run")
    for T in a.lengths:
        report(f"attention only, 8 query / 4 kv heads of 32, T = {T} (forward + backward unless marked)",
               measure(attention_variants(a.batch, 8, 4, T, 32), a.repeats), "SDPA causal")
        report(f"demo-sized model (5.2M parameters), forward + backward, T = {T}",
               measure(model_variants(a.batch, T), a.repeats), "model causal")

if __name__ == "__main__":
    main()

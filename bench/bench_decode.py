"""Batch-1 decoding against the memory-bandwidth limit: bf16, int8 and int4 weights (chapter 17), side by side.

    .venv/bin/python bench/bench_decode.py                  # Llama 3.2 1B's shape, ~15-25 min on 2 busy CPU cores
    .venv/bin/python bench/bench_decode.py --quick          # a 0.1B shape, a few minutes: a smoke run
    .venv/bin/python bench/bench_decode.py --no-compile --no-hf --no-sweep   # just the eager rows

One run measures, on the same random weights (Llama 3.2 1B's shape: 1.24B parameters, output tied to the embedding):
1. the machine's memory read bandwidth: a STREAM-style sum over a buffer far larger than the caches, with the
   torch threads decoding uses;
2. batch-1 decode tokens/s of our `generate` for bf16, int8 and int4 (eager and compiled), each against its bound
   bandwidth / bytes read per token (`quantize.decode_bytes_per_token`, plus the KV cache so far);
3. `transformers` generate on the same bf16 weights (chapter 6's Hugging Face export), batch 1 and 8;
4. tokens/s and the bound as the batch grows (1, 2, 4, 8, 16): the figure `bench/decode_batch.png`.
Every figure is a median of interleaved repeats of wall-clock time: the bandwidth and the decode rates are measured in
the same run, so their ratio holds better than either absolute number on a shared machine.
"""
from __future__ import annotations
import argparse, gc, statistics, tempfile, time

import torch

from llama31_edu.generate import generate, generate_tokens
from llama31_edu.model import ModelArgs, Transformer
from llama31_edu.quantize import decode_bytes_per_token, quantized_copy

# Llama 3.2 1B: dim 2048, 16 layers, 32/8 heads, FFN 8192, vocab 128,256, output tied to the embedding.
LLAMA32_1B = dict(dim=2048, n_layers=16, n_heads=32, n_kv_heads=8, vocab_size=128256, multiple_of=256,
                  ffn_dim_multiplier=1.5, rope_theta=500000.0, use_scaled_rope=True, rope_scale_factor=32.0)
QUICK = dict(dim=768, n_layers=8, n_heads=12, n_kv_heads=4, vocab_size=32768, multiple_of=256)


def read_bandwidth(gib: float = 2.0, repeats: int = 7) -> float:
    "Bytes/s of reading a `gib` GiB float32 buffer once (`sum`, which is far cheaper than the reads): median of repeats."
    x = torch.ones(int(gib * 2**30) // 4)
    x.sum()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); x.sum(); ts.append(time.perf_counter() - t0)
    return x.numel() * 4 / statistics.median(ts)


def random_model(args: ModelArgs, dtype) -> Transformer:
    "Random weights (std 0.02, norms 1), output tied to the embedding as in Llama 3.2 1B, allocated once in `dtype`."
    torch.manual_seed(0)
    with torch.device("meta"): model = Transformer(args)
    model.to_empty(device="cpu")
    model.output.weight = model.tok_embeddings.weight
    for n, p in model.named_parameters():
        if p.dim() == 1: torch.nn.init.ones_(p)
        else: torch.nn.init.normal_(p, std=0.02)
    return model.to(dtype).eval().requires_grad_(False)


def cache_bytes(args: ModelArgs, n_ctx: float, batch: int, bytes_per: int) -> float:
    return 2 * args.n_layers * args.n_kv_heads * args.head_dim * n_ctx * batch * bytes_per


def step_times(model, prompts, n_new: int, compile: bool) -> list[float]:
    "Wall-clock seconds of each decode step (the gaps between yields after the first, which is the prefill)."
    steps, times = generate_tokens(model, prompts, n_new, compile=compile), []
    t0 = time.perf_counter()
    for i, _ in enumerate(steps):
        t1 = time.perf_counter()
        if i > 0: times.append(t1 - t0)
        t0 = t1
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 0.1B shape instead of Llama 3.2 1B's")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats of each measurement")
    ap.add_argument("--new-tokens", type=int, default=12, help="decode steps per measurement")
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--group-size", type=int, default=32, help="int4 group size")
    ap.add_argument("--keep-head", action="store_true", help="leave the output head in bf16 (default: quantize it too)")
    ap.add_argument("--no-compile", dest="compile", action="store_false")
    ap.add_argument("--no-hf", dest="hf", action="store_false")
    ap.add_argument("--no-sweep", dest="sweep", action="store_false")
    ap.add_argument("--figure", default="bench/decode_batch.png")
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    args = ModelArgs(**(QUICK if a.quick else LLAMA32_1B), max_seq_len=256, max_batch_size=16)
    dtype = torch.bfloat16
    t0 = time.perf_counter()
    ref = random_model(args, dtype)
    models = {"bf16": ref,
              "int8": quantized_copy(ref, "int8", include_output=not a.keep_head),
              f"int4/{a.group_size}": quantized_copy(ref, "int4", a.group_size, include_output=not a.keep_head)}
    n_params = sum(p.numel() for p in ref.parameters())
    print(f"model: {'0.1B smoke shape' if a.quick else 'Llama 3.2 1B shape'}, {n_params:,} parameters (output tied), "
          f"random weights; built and quantized in {time.perf_counter() - t0:.0f}s | torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads | output head {'bf16' if a.keep_head else 'quantized too'}", flush=True)

    bws = [read_bandwidth() for _ in range(3)]
    print(f"\n1. memory read bandwidth (sum over a 2 GiB buffer, {torch.get_num_threads()} threads): "
          f"{statistics.median(bws) / 1e9:.1f} GB/s (runs: {', '.join(f'{b / 1e9:.1f}' for b in bws)})", flush=True)

    prompt = torch.randint(0, args.vocab_size, (1, a.prompt), generator=torch.Generator().manual_seed(1)).tolist()
    n_ctx = a.prompt + a.new_tokens / 2
    kinds = [(name, False) for name in models] + ([(name, True) for name in models] if a.compile else [])
    if a.compile:
        for name in models:                              # compile outside the timed repeats
            t0 = time.perf_counter(); step_times(models[name], prompt, 3, True)
            print(f"   compiled the {name} decode step in {time.perf_counter() - t0:.0f}s", flush=True)
    per = {k: [] for k in kinds}
    bw_runs = list(bws)
    for r in range(a.repeats):                           # interleaved: a slow patch of the machine hits every row
        for name, comp in kinds: per[(name, comp)] += step_times(models[name], prompt, a.new_tokens, comp)
        bw_runs.append(read_bandwidth())
    bw = statistics.median(bw_runs)
    print(f"\n2. batch-1 decode, prompt {a.prompt} + {a.new_tokens} new tokens, median step over {a.repeats} interleaved "
          f"runs; bound = {bw / 1e9:.1f} GB/s (median of {len(bw_runs)} reads in this run) / bytes per token")
    print(f"   {'weights':<9} {'mode':<9} {'GB/token':>8} {'bound tok/s':>11} {'tok/s':>7} {'of bound':>8} {'vs bf16':>8}")
    res = {}
    for name, comp in kinds:
        nbytes = decode_bytes_per_token(models[name]) + cache_bytes(args, n_ctx, 1, 2)
        tps = 1 / statistics.median(per[(name, comp)])
        res[(name, comp)] = tps
        base = res[("bf16", comp)]
        print(f"   {name:<9} {'compiled' if comp else 'eager':<9} {nbytes / 1e9:>8.3f} {bw / nbytes:>11.2f} {tps:>7.2f} "
              f"{tps * nbytes / bw:>8.0%} {tps / base:>7.2f}x", flush=True)

    if a.hf:
        import transformers
        from transformers import LlamaForCausalLM
        from llama31_edu.checkpoints import save_hf_checkpoint
        transformers.logging.set_verbosity_error(); transformers.utils.logging.disable_progress_bar()
        with tempfile.TemporaryDirectory() as d:
            save_hf_checkpoint(ref, d)
            hf = LlamaForCausalLM.from_pretrained(d, dtype=dtype).eval()
        hf.generation_config.eos_token_id = hf.config.eos_token_id = None
        print(f"\n3. end-to-end greedy generate on the same bf16 weights vs transformers {transformers.__version__} "
              f"(prompt {a.prompt} + {a.new_tokens} new tokens; tokens/s incl. prefill; median of {a.repeats})")
        print(f"   {'batch':>5} {'transformers':>12} {'ours eager':>10} {'ratio':>6}" + (f" {'compiled':>9} {'ratio':>6}" if a.compile else "") + "  same tokens")
        for B in (1, 8):
            prompts = torch.randint(0, args.vocab_size, (B, a.prompt), generator=torch.Generator().manual_seed(2))
            def theirs():
                with torch.no_grad():
                    return hf.generate(prompts, attention_mask=torch.ones_like(prompts), max_new_tokens=a.new_tokens,
                                       do_sample=False, pad_token_id=0)[:, a.prompt:].tolist()
            fns = [theirs, lambda: generate(ref, prompts.tolist(), a.new_tokens)]
            if a.compile: fns.append(lambda: generate(ref, prompts.tolist(), a.new_tokens, compile=True))
            outs = [f() for f in fns]                    # warm-up (and compiling for this batch size)
            ts = [[] for _ in fns]
            for _ in range(a.repeats):
                for f, t in zip(fns, ts):
                    t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)
            tps = [B * a.new_tokens / statistics.median(t) for t in ts]
            row = f"   {B:>5} {tps[0]:>12.2f} {tps[1]:>10.2f} {tps[1] / tps[0]:>5.2f}x"
            if a.compile: row += f" {tps[2]:>9.2f} {tps[2] / tps[0]:>5.2f}x"
            print(row + f"  {all(o == outs[0] for o in outs[1:])}", flush=True)
        del hf; gc.collect()

    if a.sweep:
        batches = (1, 2, 4, 8, 16)
        print(f"\n4. tokens/s (all rows) and the bound as the batch grows (eager, {a.new_tokens // 2} new tokens, median step)")
        print(f"   {'batch':>5} " + " ".join(f"{n + ' tok/s':>14} {'bound':>8}" for n in models))
        sweep = {n: [] for n in models}
        for B in batches:
            prompts = torch.randint(0, args.vocab_size, (B, a.prompt), generator=torch.Generator().manual_seed(3)).tolist()
            row = f"   {B:>5} "
            for n, m in models.items():
                tps = B / statistics.median(step_times(m, prompts, a.new_tokens // 2, False))
                nbytes = decode_bytes_per_token(m) + cache_bytes(args, a.prompt + a.new_tokens / 4, B, 2)
                bound = B * bw / nbytes
                sweep[n].append((tps, bound))
                row += f"{tps:>14.2f} {bound:>8.1f} "
            print(row, flush=True)
        import matplotlib; matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6.4, 4))
        for (n, pts), c in zip(sweep.items(), ("C0", "C1", "C2")):
            ax.plot(batches, [p[0] for p in pts], "o-", color=c, label=f"{n} measured")
            ax.plot(batches, [p[1] for p in pts], "--", color=c, alpha=0.6, label=f"{n} bound (bandwidth / bytes)")
        ax.set(xscale="log", yscale="log", xlabel="batch size", ylabel="tokens/s (all rows)", xticks=batches,
               xticklabels=[str(b) for b in batches],
               title=f"decode on {torch.get_num_threads()} CPU threads, {bw / 1e9:.0f} GB/s measured")
        ax.legend(fontsize=7); fig.tight_layout(); fig.savefig(a.figure, dpi=110)
        print(f"   figure: {a.figure}")


if __name__ == "__main__":
    main()

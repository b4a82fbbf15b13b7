"""Decode speed of `llama31_edu.generate`: with vs without the KV cache, vs `transformers` generate, and the cache's bytes.

    .venv/bin/python bench/bench_generate.py            # ~3-5 min on 2 CPU cores
    .venv/bin/python bench/bench_generate.py --quick    # smaller, for a smoke run
    .venv/bin/python bench/bench_generate.py --compile  # also our decode step under torch.compile (compiles first)
    python bench/bench_generate.py --device cuda --dtype bfloat16 --dim 2048 --layers 16 --heads 32 --kv-heads 8 \
        --vocab 128256 --compile                         # on a GPU: a Llama 3.2 1B-shaped model, wall clock

Everything is measured side by side in this one run, on the same random weights; every figure is a median over
`--repeats` interleaved runs. Greedy decoding, so the two implementations must also agree token for token (checked).
Times are the process's CPU time (`time.process_time`, one torch thread): on a shared machine wall time mostly
measures the neighbours. `--wall` switches to wall-clock time.
"""
from __future__ import annotations
import argparse, statistics, tempfile, time

import torch

from llama31_edu.generate import generate, generate_tokens, model_args
from llama31_edu.model import ModelArgs, Transformer


clock = time.process_time
SYNC = lambda: None          # torch.cuda.synchronize on a GPU: time the work, not its launch


def median_times(fns, repeats: int) -> list[float]:
    "Median seconds of each function, the functions interleaved so that load drifts hit them alike."
    times = [[] for _ in fns]
    for _ in range(repeats):
        for f, ts in zip(fns, times):
            SYNC(); t0 = clock(); f(); SYNC(); ts.append(clock() - t0)
    return [statistics.median(ts) for ts in times]


def decode_step_seconds(model, n_ctx: int, use_cache: bool, n_steps: int) -> float:
    "Median seconds per decode step while the sequence is around `n_ctx` tokens (batch 1, prefill excluded)."
    prompt = torch.randint(0, model_args(model).vocab_size, (n_ctx - n_steps,)).tolist()
    steps, times = generate_tokens(model, [prompt], n_steps, use_cache=use_cache), []
    SYNC(); t0 = clock()
    for i, _ in enumerate(steps):
        SYNC(); t1 = clock()
        if i > 0: times.append(t1 - t0)   # the gap between yields is one decode step (the first one is the prefill)
        t0 = t1
    return statistics.median(times)


def hf_model(model):
    "`transformers.LlamaForCausalLM` with the same weights, through chapter 6's Hugging Face export."
    import transformers
    from transformers import LlamaForCausalLM
    from llama31_edu.checkpoints import save_hf_checkpoint
    transformers.logging.set_verbosity_error(); transformers.utils.logging.disable_progress_bar()
    p = next(model.parameters())
    with tempfile.TemporaryDirectory() as d:
        save_hf_checkpoint(model, d)
        hf = LlamaForCausalLM.from_pretrained(d, dtype=p.dtype).to(p.device).eval()
    hf.generation_config.eos_token_id = hf.config.eos_token_id = None  # random weights: always run to max_new_tokens
    return hf, "checkpoints.save_hf_checkpoint"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller model and fewer repeats")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--wall", action="store_true", help="time with the wall clock instead of CPU time")
    ap.add_argument("--compile", action="store_true",
                    help="also time generate(..., compile=True); compile time is reported, not counted in tokens/s")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads for both implementations (1: a shared 2-core box spins on a second thread)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (on cuda: wall-clock time, synchronized)")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    for name, default in (("dim", 256), ("layers", 4), ("heads", 8), ("kv-heads", 2), ("vocab", 4352)):
        ap.add_argument(f"--{name}", type=int, default=None, help=f"model shape (default {default}; --quick halves dim and layers)")
    a = ap.parse_args(argv)
    global clock, SYNC
    device, dtype = torch.device(a.device), getattr(torch, a.dtype)
    if a.wall or device.type == "cuda": clock = time.perf_counter
    if device.type == "cuda": SYNC = torch.cuda.synchronize
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dim, layers = a.dim or (128 if a.quick else 256), a.layers or (2 if a.quick else 4)
    heads, kv_heads, vocab = a.heads or 8, a.kv_heads or 2, a.vocab or 4352
    args = ModelArgs(dim=dim, n_layers=layers, n_heads=heads, n_kv_heads=kv_heads, vocab_size=vocab, multiple_of=64,
                     max_seq_len=1100, max_batch_size=8)
    model = Transformer(args).to(device, dtype).eval()
    print(f"model: dim={dim} n_layers={layers} n_heads={heads} n_kv_heads={kv_heads} vocab={vocab}, {a.dtype} on "
          f"{device}, {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M params, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s), {'wall' if clock is time.perf_counter else 'CPU'} time\n")

    # 1. with vs without the cache, per decode step at a given length
    print("1. decode tokens/s at a given sequence length, batch 1 (median step time)")
    print(f"   {'tokens':>6} {'no cache':>10} {'KV cache':>10} {'speedup':>8}")
    n_steps = 8 if a.quick else 16
    for n_ctx in (256, 1024):
        no = decode_step_seconds(model, n_ctx, False, n_steps)
        yes = decode_step_seconds(model, n_ctx, True, n_steps)
        print(f"   {n_ctx:>6} {1 / no:>10.1f} {1 / yes:>10.1f} {no / yes:>7.1f}x")

    # 2. against transformers' generate with its own (dynamic) cache, same weights, greedy
    try:
        hf, how = hf_model(model)
    except ImportError as e:
        print(f"\n2. skipped: {e}"); hf = None
    if hf is not None:
        import transformers
        new, plen = (32, 16) if a.quick else (128, 32)
        print(f"\n2. end-to-end generate, prompt {plen} + {new} new tokens, greedy; tokens/s "
              f"(transformers {transformers.__version__}, weights via {how})")
        comp_cols = f" {'compiled':>10} {'ratio':>7} {'1st call s':>10}" if a.compile else ""
        print(f"   {'batch':>5} {'transformers':>12} {'ours':>10} {'ratio':>7}{comp_cols}  tokens identical")
        for B in (1, 8):
            prompts = torch.randint(0, args.vocab_size, (B, plen), device=device)
            def ours(): return generate(model, prompts.tolist(), new)
            def ours_compiled(): return generate(model, prompts.tolist(), new, compile=True)
            def theirs():
                with torch.no_grad():
                    return hf.generate(prompts, attention_mask=torch.ones_like(prompts), max_new_tokens=new,
                                       do_sample=False, pad_token_id=0)[:, plen:].tolist()
            ref = theirs()                 # also the warm-ups
            same = ours() == ref
            fns = [ours, theirs]
            if a.compile:
                t0 = time.perf_counter(); same_c = ours_compiled() == ref; t_compile = time.perf_counter() - t0
                same = same and same_c
                fns.append(ours_compiled)
            ts = median_times(fns, a.repeats)
            row = f"   {B:>5} {B * new / ts[1]:>12.1f} {B * new / ts[0]:>10.1f} {ts[1] / ts[0]:>6.2f}x"
            if a.compile: row += f" {B * new / ts[2]:>10.1f} {ts[1] / ts[2]:>6.2f}x {t_compile:>10.1f}"
            print(row + f"  {same}", flush=True)

    # 3. the cache's measured bytes vs 2 * n_layers * batch * seq * n_kv_heads * head_dim * bytes
    print("\n3. KV cache bytes: measured buffers vs the formula")
    hd = args.dim // args.n_heads
    for B, S, dtype in ((1, 1024, torch.float32), (8, 1024, torch.float32), (8, 1024, torch.bfloat16)):
        model.setup_caches(max_batch_size=B, max_seq_len=S, dtype=dtype, device=device)
        measured = sum(l.attention.cache.k_cache.nbytes + l.attention.cache.v_cache.nbytes for l in model.layers)
        formula = 2 * args.n_layers * B * S * args.n_kv_heads * hd * torch.finfo(dtype).bits // 8
        model.clear_caches()
        print(f"   batch {B} seq {S} {str(dtype):>14}: measured {measured:>11,} B  formula {formula:>11,} B  "
              f"{'equal' if measured == formula else 'DIFFERENT'}  (n_heads cache would be {formula * args.n_heads // args.n_kv_heads:,} B)")


if __name__ == "__main__":
    main()

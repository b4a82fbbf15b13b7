#!/usr/bin/env python
"""One command, a few minutes on one H100 / H200: how close does llama31-edu get to the hardware?

1. Training: a ~1B-parameter model (Llama 3.2 1B's shape, untied output: 1.5 B parameters) in bf16 under FSDP2 on
   one rank (a process group of one: the real chapter 11 code path), each block compiled. Prints tokens/s and MFU:
   (6 N + 12 L d T) FLOPs per token (chapter 8's `flops_per_token`) x tokens/s / 989 TFLOP/s (dense bf16 datasheet).
   Goal: MFU >= 40% (torchtitan reports 33-39% for Llama 3 8B on 8 H100s).
2. Decode: batch 1 on a Llama 3.1 8B-shaped model with random bf16 weights, KV cache, compiled decode step.
   Prints tokens/s against the memory-bandwidth bound: every new token reads all weights (except the embedding
   table, of which one row) and the cache so far, so tokens/s <= bandwidth / bytes per token. Goal: >= 70%.
   Then the same for int8 and int4 weights (chapter 17; the block linears and the output head quantized), each
   against its own bound and as a ratio to bf16. Goals: int8 >= 1.7x bf16, int4 >= 2.5x bf16. The bandwidth is
   the datasheet's, with a read bandwidth measured on the card in the same pass printed beside it.

    python scripts/gpu_check.py                 # on the GPU machine (about 3-5 minutes, mostly compilation)
    python scripts/gpu_check.py --cpu-smoke     # tiny sizes on CPU, seconds: keeps this script from rotting (pytest runs it)

Record what it prints in bench/README.md with the card's name.
"""
from __future__ import annotations
import argparse, json, os, statistics, sys, time

import torch
import torch.nn.functional as F

from llama31_edu.model import ModelArgs, Transformer, count_params
from llama31_edu.train import flops_per_token, peak_flops
from llama31_edu.generate import decode_step, compiled_decode_step
from llama31_edu import distributed as D

# Llama 3.2 1B's shape (its output layer is tied to the embedding; ours is not, hence 1.5 B parameters).
LLAMA32_1B_SHAPE = dict(dim=2048, n_layers=16, n_heads=32, n_kv_heads=8, vocab_size=128256, multiple_of=256,
                        ffn_dim_multiplier=1.5, rope_theta=500000.0, max_seq_len=2048)
# Memory bandwidth from the datasheets, bytes/s (the bound the goal is measured against).
GPU_BANDWIDTH = {"H200": 4.8e12, "H100 NVL": 3.9e12, "H100 PCIe": 2.0e12, "H100": 3.35e12, "A100-SXM4-80GB": 2.04e12,
                 "A100": 1.56e12}


def sync(device: torch.device):
    if device.type == "cuda": torch.cuda.synchronize(device)


def measured_copy_bandwidth(device: torch.device, mib: int) -> float:
    "Bytes/s of a large on-device copy (read + write), a sanity check next to the datasheet number."
    x = torch.empty(mib * 2**20, dtype=torch.uint8, device=device); y = torch.empty_like(x)
    y.copy_(x); sync(device)
    t0 = time.perf_counter()
    for _ in range(5): y.copy_(x)
    sync(device)
    return 2 * x.numel() * 5 / (time.perf_counter() - t0)


def train_check(a, env: D.DistEnv) -> dict:
    args = ModelArgs(**{**LLAMA32_1B_SHAPE, "max_seq_len": a.seq_len}) if not a.cpu_smoke else \
        ModelArgs.from_preset("tiny", max_seq_len=a.seq_len)
    n_params = count_params(args)
    torch.manual_seed(0)
    with torch.device("meta"): model = Transformer(args)
    model.to_empty(device=env.device)           # allocate on the device directly (no CPU copy of 6 GB)
    model.apply(model._init_weights)
    for m in model.modules():
        if hasattr(m, "weight") and m.weight is not None and m.weight.dim() == 1: torch.nn.init.ones_(m.weight)
    model = D.parallelize(model, env, mixed_precision=True, compile=a.compile)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1, betas=(0.9, 0.95),
                            fused=env.device.type == "cuda")
    tokens = torch.randint(0, args.vocab_size, (a.batch, a.seq_len + 1), device=env.device)
    amp = env.device.type == "cuda"             # FSDP2 already computes in bf16; autocast covers the rest (norms, loss)

    def step():
        with torch.autocast(env.device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(tokens[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1).float(), tokens[:, 1:].flatten())
        loss.backward()
        D.clip_grad_norm_(model, 1.0)
        opt.step(); opt.zero_grad(set_to_none=True)
        return loss

    t0 = time.perf_counter()
    for _ in range(a.warmup): step()             # compilation and allocator warm-up
    sync(env.device); warm = time.perf_counter() - t0
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter(); loss = step(); sync(env.device); times.append(time.perf_counter() - t0)
    dt = statistics.median(times)
    tps = a.batch * a.seq_len / dt
    fpt = flops_per_token(args, a.seq_len)
    peak, src = peak_flops(env.device, torch.bfloat16 if amp else torch.float32)
    mfu = tps * fpt / peak
    print(f"train : {n_params:,} params, FSDP2 on {env.world_size} rank, bf16 params / fp32 reduce={amp}, "
          f"compile={a.compile}, batch {a.batch} x {a.seq_len} tokens; warm-up {a.warmup} steps {warm:.0f}s")
    print(f"train : {tps:,.0f} tokens/s (median of {a.steps} steps, {dt * 1e3:.0f} ms/step), loss {loss.item():.3f} | "
          f"{fpt / 1e9:.2f} GFLOP/token (6N + 12LdT) | {tps * fpt / 1e12:.1f} TFLOP/s | MFU {mfu:.1%} of "
          f"{peak / 1e12:.0f} TFLOP/s ({src}) | goal >= 40%", flush=True)
    if env.device.type == "cuda": print(f"train : peak memory {torch.cuda.max_memory_allocated(env.device) / 2**30:.1f} GiB")
    del model, opt
    if env.device.type == "cuda": torch.cuda.empty_cache()
    return dict(train_params=n_params, train_tokens_per_s=tps, train_mfu=mfu, train_peak=src, train_ms_per_step=dt * 1e3)


def measured_read_bandwidth(device: torch.device, mib: int) -> float:
    "Bytes/s of reading a large buffer once (`sum`, far cheaper than the reads): what a decode step needs."
    x = torch.ones(mib * 2**20 // 2, dtype=torch.bfloat16, device=device)
    x.sum(); sync(device)
    ts = []
    for _ in range(5):
        t0 = time.perf_counter(); x.sum(); sync(device); ts.append(time.perf_counter() - t0)
    return x.numel() * 2 / statistics.median(ts)


def decode_rate(model, a, device: torch.device) -> float:
    "Median tokens/s of batch-1 cached decoding after `a.decode_warmup` tokens (prefill excluded)."
    total = a.prompt + a.new_tokens
    args = model.args
    model.setup_caches(1, total, dtype=torch.bfloat16, device=device)
    # chapter 9's decode step, compiled as `generate(compile=True)` compiles it (static shapes, CUDA graphs)
    step_fn = compiled_decode_step(model) if a.compile else decode_step
    prompt = torch.randint(0, args.vocab_size, (1, a.prompt), device=device)
    with torch.inference_mode():
        logits = model(prompt, input_pos=torch.arange(a.prompt, device=device)[None])
        tok = logits[:, -1:].argmax(-1)
        times = []
        for i in range(a.new_tokens):
            pos = torch.tensor([[a.prompt + i]], device=device)
            t0 = time.perf_counter()
            tok = step_fn(model, tok, pos).argmax(-1, keepdim=True)
            sync(device); times.append(time.perf_counter() - t0)
        if a.profile: profile_steps(step_fn, model, tok, a.prompt + a.new_tokens - 12, device)
    model.clear_caches()
    steady = times[min(len(times) - 1, a.decode_warmup):]
    return 1 / statistics.median(steady)


def profile_steps(step_fn, model, tok, start: int, device: torch.device, n: int = 10) -> None:
    "Print where `n` decode steps spend their time, kernel by kernel (`--profile`): what to fix when a row misses."
    from torch.profiler import profile, ProfilerActivity
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        for i in range(n): tok = step_fn(model, tok, torch.tensor([[start + i]], device=device)).argmax(-1, keepdim=True)
        sync(device)
    key = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
    print(prof.key_averages().table(sort_by=key, row_limit=12, max_name_column_width=70), flush=True)


def decode_check(a, device: torch.device) -> dict:
    from llama31_edu.quantize import decode_bytes_per_token, quantized_copy
    args = ModelArgs.from_preset("tiny") if a.cpu_smoke else \
        ModelArgs(**LLAMA32_1B_SHAPE) if a.decode_shape == "1b" else ModelArgs.from_preset("llama3.1-8b")
    dtype = torch.bfloat16
    with torch.device("meta"): model = Transformer(args)
    model.to_empty(device=device)
    for p in model.parameters(): torch.nn.init.normal_(p, std=0.02)   # random weights: speed does not care
    model = model.to(dtype).eval().requires_grad_(False)
    mean_pos = a.prompt + (a.decode_warmup + a.new_tokens) / 2
    cache_bytes = 2 * args.n_layers * args.n_kv_heads * args.head_dim * mean_pos * 2
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    bw = next((v for k, v in GPU_BANDWIDTH.items() if k in name), None) if a.bandwidth is None else a.bandwidth
    copy_bw = measured_copy_bandwidth(device, 1024 if device.type == "cuda" else 64)
    read_bw = measured_read_bandwidth(device, 4096 if device.type == "cuda" else 64)
    bw_src = "datasheet" if bw is not None and a.bandwidth is None else ("--bandwidth" if a.bandwidth else "measured read")
    bw = bw or read_bw
    print(f"decode: {count_params(args):,} params, random weights, batch 1, prompt {a.prompt}, {a.new_tokens} new tokens, "
          f"compile={a.compile} | bandwidth {bw / 1e12:.2f} TB/s ({bw_src}); measured here: read {read_bw / 1e12:.2f} TB/s, "
          f"copy {copy_bw / 1e12:.2f} TB/s")
    out = dict(decode_bandwidth=bw, decode_bandwidth_source=bw_src, measured_copy_bandwidth=copy_bw,
               measured_read_bandwidth=read_bw)
    rows = [("bf16", None)] + ([] if a.skip_quant else [("int8", None), ("int4", a.group_size)])
    base = None
    for scheme, gs in rows:
        try:
            m = model if scheme == "bf16" else quantized_copy(model, scheme, gs or 32, include_output=True)
            tps = decode_rate(m, a, device)
        except Exception as e:      # one failed row (a kernel missing on this card) must not lose the others
            print(f"decode: {scheme:<4} FAILED: {type(e).__name__}: {str(e).splitlines()[0][:200]}", flush=True); continue
        per_token = decode_bytes_per_token(m) + cache_bytes
        bound, bound_read = bw / per_token, read_bw / per_token
        base = base or (tps if scheme == "bf16" else None)
        label = scheme + (f"/{gs}" if gs else "")
        print(f"decode: {label:<7} {tps:,.1f} tokens/s (median after {a.decode_warmup} warm-up tokens) | {per_token / 1e9:.3f} GB "
              f"read per token | bound {bound:,.1f} tokens/s, {tps / bound:.0%} of the bound ({bw_src}), {tps / bound_read:.0%} of "
              f"the measured read bound {bound_read:,.1f} | " + (f"{tps / base:.2f}x bf16 | " if base and scheme != "bf16" else "")
              + {"bf16": "goal >= 70%", "int8": "goal >= 1.7x bf16", "int4": "goal >= 2.5x bf16"}[scheme], flush=True)
        key = "decode" if scheme == "bf16" else f"decode_{scheme}"
        out |= {f"{key}_tokens_per_s": tps, f"{key}_bound_tokens_per_s": bound, f"{key}_fraction": tps / bound,
                f"{key}_bytes_per_token": per_token}
        if m is not model: del m
        if device.type == "cuda": torch.cuda.empty_cache()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpu-smoke", action="store_true", help="tiny sizes on CPU, no compile: checks the script still runs")
    p.add_argument("--batch", type=int, default=None); p.add_argument("--seq-len", type=int, default=None)
    p.add_argument("--steps", type=int, default=None, help="timed training steps")
    p.add_argument("--warmup", type=int, default=None, help="untimed training steps first (compilation)")
    p.add_argument("--prompt", type=int, default=None); p.add_argument("--new-tokens", type=int, default=None)
    p.add_argument("--decode-warmup", type=int, default=None)
    p.add_argument("--no-compile", dest="compile", action="store_false", default=None)
    p.add_argument("--bandwidth", type=float, default=None, help="bytes/s for the decode bound (default: datasheet by card name)")
    p.add_argument("--skip-train", action="store_true"); p.add_argument("--skip-decode", action="store_true")
    p.add_argument("--skip-quant", action="store_true", help="only the bf16 decode row (no int8/int4 rows)")
    p.add_argument("--group-size", type=int, default=32, help="int4 group size of the quantized decode row")
    p.add_argument("--decode-shape", choices=("8b", "1b"), default="8b",
                   help="decode model: Llama 3.1 8B's shape (default) or Llama 3.2 1B's (untied output; compiles faster)")
    p.add_argument("--profile", action="store_true", help="also print the top kernels of 10 decode steps per row")
    p.add_argument("--json", default=None, help="also write the figures to this JSON file")
    a = p.parse_args(argv)
    gpu = dict(batch=4, seq_len=2048, steps=10, warmup=3, prompt=512, new_tokens=128, decode_warmup=16, compile=True)
    smoke = dict(batch=2, seq_len=32, steps=2, warmup=1, prompt=8, new_tokens=6, decode_warmup=2, compile=False)
    for k, v in (smoke if a.cpu_smoke else gpu).items():
        if getattr(a, k) is None: setattr(a, k, v)
    if not a.cpu_smoke and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; run it on the GPU machine, or pass --cpu-smoke", file=sys.stderr); return 2
    os.environ.update(D.one_rank_env())        # a process group of one, unless torchrun made one
    env = D.init_distributed("fsdp")
    name = torch.cuda.get_device_name(env.device) if env.device.type == "cuda" else "cpu"
    print(f"device: {name} | torch {torch.__version__} | world size {env.world_size}", flush=True)
    out = dict(device=name, torch=torch.__version__)
    try:
        if not a.skip_train: out |= train_check(a, env)
        if not a.skip_decode: out |= decode_check(a, env.device)
    finally:
        env.close()
    if a.json: open(a.json, "w").write(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

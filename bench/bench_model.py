"""Forward and forward+backward tokens/s of our `Transformer` against Hugging Face's `LlamaForCausalLM`.

Same ~20M-parameter config, same weights, same inputs, fp32 on CPU, both attending with SDPA. The two models
run alternately (A, B, A, B, ...) in one process so that a busy machine slows both alike; we report medians
and the ratio ours / HF (> 1 means we are faster).

    .venv/bin/python bench/bench_model.py [--batch 8] [--seq 256] [--repeats 5]
"""
from __future__ import annotations
import argparse, statistics, time
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM
from llama31_edu.model import ModelArgs, Transformer, count_params
from llama31_edu.checkpoints import args_to_hf_config, hf_state_dict

# ~20M parameters: 5 blocks of width 512, GQA 8 query / 4 kv heads, the demo vocabulary
BENCH_ARGS = ModelArgs(dim=512, n_layers=5, n_heads=8, n_kv_heads=4, vocab_size=4352, multiple_of=256,
                       use_scaled_rope=True, max_seq_len=16384)

def hf_model(args: ModelArgs, model: Transformer) -> LlamaForCausalLM:
    "A LlamaForCausalLM (SDPA attention) holding `model`'s weights, converted by chapter 6's `hf_state_dict`."
    cfg = LlamaConfig(**args_to_hf_config(args))
    cfg._attn_implementation = "sdpa"
    hf = LlamaForCausalLM(cfg)
    hf.load_state_dict(hf_state_dict(model), strict=True)
    return hf

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's default)")
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    args = BENCH_ARGS
    ours = Transformer(args)
    theirs = hf_model(args, ours)
    tokens = torch.randint(0, args.vocab_size, (a.batch, a.seq))
    targets = torch.randint(0, args.vocab_size, (a.batch, a.seq))
    n_tok = a.batch * a.seq

    fwd = {"ours": lambda: ours(tokens), "HF": lambda: theirs(tokens, use_cache=False).logits}
    with torch.no_grad():
        diff = (fwd["ours"]() - fwd["HF"]()).abs().max().item()
    print(f"config: {count_params(args)/1e6:.1f}M params, dim {args.dim}, {args.n_layers} layers, "
          f"{args.n_heads}/{args.n_kv_heads} heads, vocab {args.vocab_size}; batch {a.batch} x {a.seq}, fp32, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"same logits: max |ours - HF| = {diff:.2e}")

    def run(mode, name):
        model = ours if name == "ours" else theirs
        t = time.perf_counter()
        if mode == "forward":
            with torch.no_grad(): fwd[name]()
        else:
            logits = fwd[name]()
            F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1)).backward()
            model.zero_grad(set_to_none=True)
        return n_tok / (time.perf_counter() - t)

    results = {}
    for mode in ("forward", "forward+backward"):
        for name in ("ours", "HF"): run(mode, name)  # warm-up
        tps = {"ours": [], "HF": []}
        for _ in range(a.repeats):
            for name in ("ours", "HF"): tps[name].append(run(mode, name))
        med = {k: statistics.median(v) for k, v in tps.items()}
        results[mode] = med
        print(f"{mode:>17}: ours {med['ours']:8.0f} tok/s   HF {med['HF']:8.0f} tok/s   ratio ours/HF {med['ours']/med['HF']:.3f}"
              f"   (medians of {a.repeats}; ours min-max {min(tps['ours']):.0f}-{max(tps['ours']):.0f}, "
              f"HF {min(tps['HF']):.0f}-{max(tps['HF']):.0f})")
    return results

if __name__ == "__main__":
    main()

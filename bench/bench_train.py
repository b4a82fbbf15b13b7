"""Training throughput of our `Transformer` against `transformers.LlamaForCausalLM` (chapter 8's benchmark).

Same shape (a preset, default `demo`), same batch of random token windows, same loss (mean cross-entropy), same
AdamW step (lr 3e-4, betas (0.9, 0.95), weight decay 0.1 on every parameter for both), fp32 on CPU, one thread
each unless --threads; time is the process's CPU time (on a shared machine wall time mostly measures the
neighbours; with one thread, CPU time is the work itself). Each repeat runs one model in a fresh subprocess (so its peak memory is its own),
alternating ours / HF, and reports tokens/s over the timed steps and the peak resident memory of the
training steps above what the process held before building the model (ru_maxrss). We print medians over the repeats
and the ratio ours / HF (goal >= 1.0 for throughput).

    .venv/bin/python bench/bench_train.py [--preset demo] [--batch 8] [--seq 128] [--steps 5] [--repeats 3]
"""
from __future__ import annotations
import argparse, json, statistics, subprocess, sys, time

WORKER = r"""
import json, resource, statistics, sys, time, torch, torch.nn.functional as F
kind, preset, B, T, steps, threads = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
torch.set_num_threads(threads)
from llama31_edu.model import ModelArgs, Transformer
from llama31_edu.layers import ffn_hidden_dim
args = ModelArgs.from_preset(preset, max_seq_len=max(T, 16))
# both workers import transformers before the memory baseline: whatever it imports is not counted for either
from transformers import LlamaConfig, LlamaForCausalLM
if kind == "hf":
    cfg = LlamaConfig(vocab_size=args.vocab_size, hidden_size=args.dim, num_hidden_layers=args.n_layers,
        num_attention_heads=args.n_heads, num_key_value_heads=args.n_kv_heads, head_dim=args.dim // args.n_heads,
        intermediate_size=ffn_hidden_dim(args.dim, args.multiple_of, args.ffn_dim_multiplier), rms_norm_eps=args.norm_eps,
        rope_theta=args.rope_theta, max_position_embeddings=args.max_seq_len, tie_word_embeddings=False,
        attention_bias=False, mlp_bias=False,
        rope_scaling=dict(rope_type="llama3", factor=args.rope_scale_factor, low_freq_factor=args.rope_low_freq_factor,
                          high_freq_factor=args.rope_high_freq_factor,
                          original_max_position_embeddings=args.rope_original_max_seq_len))
    cfg._attn_implementation = "sdpa"
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.manual_seed(0); model = LlamaForCausalLM(cfg)
    fwd = lambda x: model(input_ids=x, use_cache=False).logits
else:
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.manual_seed(0); model = Transformer(args)
    fwd = lambda x: model(x)
n_params = sum(p.numel() for p in model.parameters())
opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
g = torch.Generator().manual_seed(1)
x = torch.randint(0, args.vocab_size, (B, T + 1), generator=g)
def step():
    logits = fwd(x[:, :-1])
    loss = F.cross_entropy(logits.float().flatten(0, 1), x[:, 1:].flatten())
    loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    return loss.item()
for _ in range(2): step()                         # warm-up: allocator, optimizer states
times = []
for _ in range(steps):
    t0 = time.process_time(); step(); times.append(time.process_time() - t0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0     # KiB on Linux
print(json.dumps(dict(tokens_per_s=B * T / statistics.median(times), peak_mib=peak / 1024, n_params=n_params)))
"""


def run(kind, a):
    r = subprocess.run([sys.executable, "-c", WORKER, kind, a.preset, str(a.batch), str(a.seq), str(a.steps), str(a.threads)],
                       capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"{kind} worker failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="demo"); p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=128); p.add_argument("--steps", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3); p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    res = {"ours": [], "hf": []}
    for r in range(a.repeats):
        for kind in ("ours", "hf"):
            res[kind].append(run(kind, a))
            print(f"repeat {r + 1} {kind:>4}: {res[kind][-1]['tokens_per_s']:8.0f} tok/s, peak +{res[kind][-1]['peak_mib']:.0f} MiB", flush=True)
    med = {k: dict(tps=statistics.median(x["tokens_per_s"] for x in v), mem=statistics.median(x["peak_mib"] for x in v),
                   n=v[0]["n_params"]) for k, v in res.items()}
    assert med["ours"]["n"] == med["hf"]["n"], f"parameter counts differ: {med['ours']['n']} vs {med['hf']['n']}"
    print(f"\npreset {a.preset} ({med['ours']['n']:,} params), batch {a.batch} x {a.seq} tokens, fp32 CPU, "
          f"{a.threads} thread(s), AdamW step, median of {a.repeats} repeats x median of {a.steps} steps, CPU time")
    print(f"{'':>28}{'ours':>12}{'HF Llama':>12}{'ours/HF':>10}")
    print(f"{'training tokens/CPU-s':>28}{med['ours']['tps']:12.0f}{med['hf']['tps']:12.0f}{med['ours']['tps'] / med['hf']['tps']:10.2f}")
    print(f"{'peak memory above start MiB':>28}{med['ours']['mem']:12.0f}{med['hf']['mem']:12.0f}{med['ours']['mem'] / med['hf']['mem']:10.2f}")


if __name__ == "__main__":
    main()

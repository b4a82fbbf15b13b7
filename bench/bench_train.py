"""Training throughput and peak memory of our `Transformer` against `transformers.LlamaForCausalLM` (chapter 8's benchmark).

Same shape (a preset, default `demo`), same weights (ours, copied into HF's layout by chapter 6's converter), same
batch of random token windows, same loss (mean cross-entropy over the logits), same gradient clipping (norm 1.0) and
AdamW step (lr 3e-4, betas (0.9, 0.95), weight decay 0.1 on every parameter for both), fp32 on CPU, one thread unless
--threads. Ours goes through chapter 8's engine (`train_step` with `next_token_loss`, as `llama31-edu train` runs
it); HF's through a plain loop doing the same work.

Throughput: both models live in one process and take turns, one training step each, `--rounds` x `--steps` times
after `--warmup` steps each; time is the process's CPU time per step (on a shared machine wall time mostly measures
the neighbours; with one thread, CPU time is the work itself), and who goes first alternates by round. Alternating
step by step means a slow patch of the machine hits both alike; the ratio of the two medians is the result, and the
per-round ratios show its spread.
Memory: each model trains `--steps` steps alone in a fresh subprocess, and we report the peak resident memory
during training above what the process held before building the model (VmHWM; both workers import the same
modules first, so neither is charged for the other's imports).

    .venv/bin/python bench/bench_train.py [--preset demo] [--batch 8] [--seq 128] [--rounds 5] [--steps 10]
"""
from __future__ import annotations
import argparse, json, resource, statistics, subprocess, sys, time


def build(kind: str, preset: str, B: int, T: int, seed: int = 0):
    "Return (training step function, parameter count) for `kind` in ('ours', 'hf'), on the same weights and batch."
    import torch, torch.nn.functional as F
    from llama31_edu.model import ModelArgs, Transformer
    from llama31_edu.checkpoints import args_to_hf_config, hf_state_dict
    from transformers import LlamaConfig, LlamaForCausalLM
    args = ModelArgs.from_preset(preset, max_seq_len=max(T, 16))
    torch.manual_seed(seed); model = Transformer(args)
    if kind == "hf":     # the same weights in HF's names and rotate-half row order (what chapter 6's exporter writes)
        cfg = LlamaConfig(**args_to_hf_config(args))
        cfg._attn_implementation = "sdpa"
        hf = LlamaForCausalLM(cfg)
        hf.load_state_dict(hf_state_dict(model), strict=True)
        del model
        model, fwd = hf, (lambda x: hf(input_ids=x, use_cache=False).logits)
    else:
        fwd = model
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
    x = torch.randint(0, args.vocab_size, (B, T + 1), generator=torch.Generator().manual_seed(1))
    n = sum(p.numel() for p in model.parameters())
    if kind == "ours":   # chapter 8's engine as `llama31-edu train` runs it: train_step with next_token_loss
        from llama31_edu.train import TrainConfig, TrainState, BudgetPlanner, RunEnv, train_step, next_token_loss
        state, env = TrainState(model, opt, None, BudgetPlanner(None, 10**9)), RunEnv()
        cfg = TrainConfig(lr=3e-4, warmup_steps=0, min_lr_ratio=1.0, grad_clip=1.0, dtype="fp32", device="cpu")
        return (lambda: train_step(state, [(x[:, :-1], x[:, 1:])], next_token_loss, cfg, env).loss), n

    def step():          # the plain loop: the same forward, loss, backward, clipping and AdamW step
        logits = fwd(x[:, :-1])
        loss = F.cross_entropy(logits.float().flatten(0, 1), x[:, 1:].flatten())
        loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); opt.zero_grad(set_to_none=True)
        return loss.item()
    return step, n


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB: /proc's VmHWM (per address space, so a fresh exec starts from zero),
    else ru_maxrss (which on Linux carries the parent's peak across fork + exec)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"): return int(line.split()[1])
    except OSError: pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_worker(kind, preset, B, T, steps, threads):
    "In a fresh process: peak RSS of `steps` training steps of one model, above the RSS after all imports."
    import torch, llama31_edu.model, llama31_edu.checkpoints                 # noqa: F401  imported before the baseline,
    from transformers import LlamaConfig, LlamaForCausalLM                   # noqa: F401  by both workers
    torch.set_num_threads(threads)
    rss0 = peak_rss_kib()
    step, n = build(kind, preset, B, T)
    for _ in range(steps): step()
    peak = peak_rss_kib() - rss0
    print(json.dumps(dict(peak_mib=peak / 1024, n_params=n)))


def peak_memory(kind, a):
    r = subprocess.run([sys.executable, __file__, "--memory-worker", kind, "--preset", a.preset, "--batch", str(a.batch),
                        "--seq", str(a.seq), "--steps", str(a.steps), "--threads", str(a.threads)],
                       capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"{kind} memory worker failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="demo"); p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=128); p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=10, help="timed steps per model per round (and memory-run steps)")
    p.add_argument("--warmup", type=int, default=3); p.add_argument("--threads", type=int, default=1)
    p.add_argument("--memory-worker", choices=("ours", "hf"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.memory_worker:
        return memory_worker(a.memory_worker, a.preset, a.batch, a.seq, a.steps, a.threads)

    mem = {k: peak_memory(k, a)["peak_mib"] for k in ("ours", "hf")}   # first, while this process is still small
    import torch, transformers
    torch.set_num_threads(a.threads)
    steps = {k: build(k, a.preset, a.batch, a.seq) for k in ("ours", "hf")}
    n = {k: v[1] for k, v in steps.items()}
    assert n["ours"] == n["hf"], f"parameter counts differ: {n}"
    first = {k: fn() for k, (fn, _) in steps.items()}
    assert abs(first["ours"] - first["hf"]) < 1e-4, f"the two models start from different losses: {first}"
    for _ in range(a.warmup - 1):
        for fn, _ in steps.values(): fn()
    times = {"ours": [], "hf": []}
    round_ratios = []
    for r in range(a.rounds):
        this = {"ours": [], "hf": []}
        order = ("ours", "hf") if r % 2 == 0 else ("hf", "ours")     # who goes first alternates by round
        for _ in range(a.steps):
            for k in order:
                t0 = time.process_time(); steps[k][0](); this[k].append(time.process_time() - t0)
        for k in times: times[k] += this[k]
        round_ratios.append(statistics.median(this["hf"]) / statistics.median(this["ours"]))
        print(f"round {r + 1}: ours {a.batch * a.seq / statistics.median(this['ours']):7.0f} tok/s   "
              f"HF {a.batch * a.seq / statistics.median(this['hf']):7.0f} tok/s   ours/HF {round_ratios[-1]:.3f}", flush=True)
    tps = {k: a.batch * a.seq / statistics.median(v) for k, v in times.items()}
    print(f"\npreset {a.preset} ({n['ours']:,} params), batch {a.batch} x {a.seq} tokens, fp32 CPU, {a.threads} "
          f"thread(s), AdamW step, torch {torch.__version__}, transformers {transformers.__version__}; same weights "
          f"(first losses {first['ours']:.5f} / {first['hf']:.5f})")
    print(f"throughput: median CPU time of {a.rounds} x {a.steps} alternating steps each; memory: own process each\n")
    print(f"{'':>28}{'ours':>12}{'HF Llama':>12}{'ours/HF':>10}")
    print(f"{'training tokens/CPU-s':>28}{tps['ours']:12.0f}{tps['hf']:12.0f}{tps['ours'] / tps['hf']:10.3f}"
          f"   (per round {min(round_ratios):.3f}-{max(round_ratios):.3f})")
    print(f"{'peak memory above start MiB':>28}{mem['ours']:12.0f}{mem['hf']:12.0f}{mem['ours'] / mem['hf']:10.3f}")


if __name__ == "__main__":
    main()

"""SFT training throughput: our `Transformer` with chapter 14's masked loss against `transformers.LlamaForCausalLM`.

Same shape (a preset, default `demo`), same weights (ours, copied into HF's layout by chapter 6's `hf_state_dict`),
the same real batch (`--batch` dialogs of data/sft/train.jsonl, rendered by `render_dialog`, length-grouped and
right-padded by `DialogBatches`), the same masked loss (summed cross-entropy over the assistant's tokens divided by
their number: `next_token_loss` (chapter 8) for ours, the same `F.cross_entropy(..., ignore_index=-100)` on HF's logits), the same
AdamW step, fp32 on CPU, one thread unless --threads.

Both models live in one process and take turns, one training step each, `--rounds` x `--steps` times after
`--warmup` steps each; time is the process's CPU time per step (on a shared machine wall time mostly measures the
neighbours), and who goes first alternates by round. The ratio of the two medians is the result; the per-round
ratios show its spread. Tokens counted are the batch's real (non-padding) tokens.

    .venv/bin/python bench/bench_sft.py [--preset demo] [--batch 8] [--rounds 5] [--steps 6]
"""
from __future__ import annotations
import argparse, statistics, time


def hf_loss(m, b):
    "The masked loss on HF's logits, as chapter 8's `next_token_loss` computes it on ours: (sum, number of targets)."
    import torch.nn.functional as F
    from llama31_edu.train import IGNORE
    x, y = b
    logits = m(input_ids=x, use_cache=False).logits
    return F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=IGNORE, reduction="sum"), (y != IGNORE).sum()


def step_fn(model, loss_fn, batch, opt):
    "One training step (masked mean loss, backward, optimizer step) as a function that returns the loss."
    def step():
        loss_sum, n = loss_fn(model, batch)
        loss = loss_sum / n
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        return loss.item()
    return step


def build(kind: str, preset: str, batch, seed: int = 0):
    "A training step function for `kind` in ('ours', 'hf') on the same weights; it returns the mean masked loss."
    import torch
    from llama31_edu.model import ModelArgs, Transformer
    from llama31_edu.train import next_token_loss
    from bench_model import hf_model          # chapter 6's weights in transformers' LlamaForCausalLM
    args = ModelArgs.from_preset(preset)
    torch.manual_seed(seed); model = Transformer(args)
    model, loss_fn = (hf_model(args, model), hf_loss) if kind == "hf" else (model, next_token_loss)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
    return step_fn(model, loss_fn, batch, opt)


def harness_args(p: argparse.ArgumentParser) -> None:
    "The options every side-by-side SFT benchmark takes (this one and bench_lora.py)."
    p.add_argument("--preset", default="demo"); p.add_argument("--batch", type=int, default=8)
    p.add_argument("--rounds", type=int, default=5); p.add_argument("--steps", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2); p.add_argument("--threads", type=int, default=1)


def sft_batch(batch: int):
    "One real SFT batch: `batch` dialogs of data/sft/train.jsonl, rendered and padded by chapter 14; with its real tokens."
    from llama31_edu.sft import SFT_DATA, DialogBatches, encode_dialogs, load_dialogs
    from llama31_edu.tokenizer import DEMO_TOKENIZER, Tokenizer
    tok = Tokenizer(DEMO_TOKENIZER)
    examples, _ = encode_dialogs(load_dialogs(SFT_DATA / "train.jsonl")[:512], tok, max_len=256)
    x, y = DialogBatches(examples, batch, tok.pad_id, seed=0).next()
    return x, y, int((x != tok.pad_id).sum())


def race(steps: dict, real: int, rounds: int, n_steps: int, warmup: int, other: str = "HF"):
    """Run the step functions `steps` ('ours', 'hf') in turns, `rounds` x `n_steps` times after `warmup` steps each,
    alternating who goes first; CPU time per step. Returns (tokens/CPU-s per side, per-round ratios, first losses)."""
    first = {k: fn() for k, fn in steps.items()}
    assert abs(first["ours"] - first["hf"]) < 1e-4, f"the two models start from different losses: {first}"
    for _ in range(warmup - 1):
        for fn in steps.values(): fn()
    times, round_ratios = {"ours": [], "hf": []}, []
    for r in range(rounds):
        this = {"ours": [], "hf": []}
        for _ in range(n_steps):
            for k in (("ours", "hf") if r % 2 == 0 else ("hf", "ours")):
                t0 = time.process_time(); steps[k](); this[k].append(time.process_time() - t0)
        for k in times: times[k] += this[k]
        round_ratios.append(statistics.median(this["hf"]) / statistics.median(this["ours"]))
        print(f"round {r + 1}: ours {real / statistics.median(this['ours']):7.0f} tok/s   "
              f"{other} {real / statistics.median(this['hf']):7.0f} tok/s   ours/HF {round_ratios[-1]:.3f}", flush=True)
    return {k: real / statistics.median(v) for k, v in times.items()}, round_ratios, first


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness_args(p)
    a = p.parse_args(argv)
    import torch, transformers
    torch.set_num_threads(a.threads)
    x, y, real = sft_batch(a.batch)
    steps = {k: build(k, a.preset, (x, y)) for k in ("ours", "hf")}
    tps, round_ratios, first = race(steps, real, a.rounds, a.steps, a.warmup)
    print(f"\npreset {a.preset}, one SFT batch of {a.batch} dialogs {tuple(x.shape)} ({real} real tokens, "
          f"{int((y != -100).sum())} targets), fp32 CPU, {a.threads} thread(s), AdamW, torch {torch.__version__}, "
          f"transformers {transformers.__version__}; same weights (first losses {first['ours']:.5f} / {first['hf']:.5f})")
    print(f"{'':>26}{'ours':>10}{'HF Llama':>10}{'ours/HF':>10}")
    print(f"{'SFT tokens/CPU-s':>26}{tps['ours']:10.0f}{tps['hf']:10.0f}{tps['ours'] / tps['hf']:10.3f}"
          f"   (per round {min(round_ratios):.3f}-{max(round_ratios):.3f}; goal >= 1.0)")


if __name__ == "__main__":
    main()

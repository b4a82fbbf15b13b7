"""LoRA training throughput: our `Transformer` with chapter 15's adapters against `transformers` + `peft`.

Same shape (a preset, default `demo`), same base weights (ours, copied into HF's layout by chapter 6's `hf_state_dict`),
same adapters (rank `--rank`, alpha 2 x rank, on `--targets`; ours copied into `peft`'s model by
`set_peft_model_state_dict` after chapter 15's `peft_state_dict`, with B drawn non-zero so that both start from the
same non-trivial adapters), the same real batch (`--batch` dialogs of data/sft/train.jsonl, rendered and padded by
chapter 14), the same masked loss and an AdamW step over the adapters only, fp32 on CPU, one thread unless --threads.

Both models live in one process and take turns, one training step each, `--rounds` x `--steps` times after
`--warmup` steps each; time is the process's CPU time per step (on a shared machine wall time mostly measures the
neighbours), and who goes first alternates by round. The ratio of the two medians is the result; the per-round
ratios show its spread. Tokens counted are the batch's real (non-padding) tokens.

    .venv/bin/python bench/bench_lora.py [--preset demo] [--batch 8] [--rank 16] [--rounds 5] [--steps 6]
"""
from __future__ import annotations
import argparse


def build(kind: str, preset: str, batch, rank: int, targets: list[str], seed: int = 0):
    "A LoRA training step function for `kind` in ('ours', 'hf') on the same weights; it returns the mean masked loss."
    import torch
    from bench_model import hf_model
    from bench_sft import hf_loss, step_fn
    from llama31_edu.model import ModelArgs, Transformer
    from llama31_edu.train import next_token_loss
    from llama31_edu.checkpoints import build_model
    from llama31_edu.lora import HF_NAMES, add_lora, lora_layers, merged_state_dict, peft_state_dict
    args = ModelArgs.from_preset(preset)
    torch.manual_seed(seed); model = add_lora(Transformer(args), rank, 2.0 * rank, targets)
    with torch.no_grad():
        for m in lora_layers(model).values(): m.lora_B.normal_(std=0.02)
    loss_fn = next_token_loss
    if kind == "hf":
        from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
        hf = hf_model(args, build_model(args, merged_state_dict(model.state_dict(), 0.0)))   # the base alone
        hf = get_peft_model(hf, LoraConfig(r=rank, lora_alpha=2.0 * rank, lora_dropout=0.0,
                                           target_modules=[HF_NAMES[t] for t in targets]))
        res = set_peft_model_state_dict(hf, peft_state_dict(model.state_dict(), args))
        assert not res.unexpected_keys, res.unexpected_keys
        model, loss_fn = hf, hf_loss
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.95), weight_decay=0.0)
    return step_fn(model, loss_fn, batch, opt), sum(p.numel() for p in params)


def main(argv=None):
    from bench_sft import harness_args, race, sft_batch      # the same batch and the same timing as bench_sft.py
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness_args(p)
    p.add_argument("--rank", type=int, default=16); p.add_argument("--targets", default="wq,wk,wv,wo,w1,w2,w3")
    a = p.parse_args(argv)
    import torch, transformers, peft
    torch.set_num_threads(a.threads)
    x, y, real = sft_batch(a.batch)
    targets = a.targets.split(",")
    built = {k: build(k, a.preset, (x, y), a.rank, targets) for k in ("ours", "hf")}
    steps = {k: fn for k, (fn, _) in built.items()}
    n_train = {k: n for k, (_, n) in built.items()}
    assert n_train["ours"] == n_train["hf"], f"different numbers of trained parameters: {n_train}"
    tps, round_ratios, first = race(steps, real, a.rounds, a.steps, a.warmup, other="HF+peft")
    print(f"\npreset {a.preset}, LoRA rank {a.rank} alpha {2 * a.rank} on {a.targets} ({n_train['ours']:,} trained parameters), "
          f"one SFT batch of {a.batch} dialogs {tuple(x.shape)} ({real} real tokens, {int((y != -100).sum())} targets), fp32 CPU, "
          f"{a.threads} thread(s), AdamW, torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}; "
          f"same weights (first losses {first['ours']:.5f} / {first['hf']:.5f})")
    print(f"{'':>26}{'ours':>10}{'HF+peft':>10}{'ours/HF':>10}")
    print(f"{'LoRA tokens/CPU-s':>26}{tps['ours']:10.0f}{tps['hf']:10.0f}{tps['ours'] / tps['hf']:10.3f}"
          f"   (per round {min(round_ratios):.3f}-{max(round_ratios):.3f}; goal >= 1.0)")


if __name__ == "__main__":
    main()

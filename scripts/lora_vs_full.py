"""LoRA against full fine-tuning on chapter 14's SFT task, with the same budget (chapter 15's measurement).

Both runs start from the demo model (`--init`, default data/demo_model), train `--steps` optimizer steps of chapter 14's
recipe (`SFT_CONFIG`: batches of 8 dialogs) through the one engine (`llama31-edu sft`, with `--lora-rank` for LoRA), then
answer the first `--held` dialogs of data/sft/test.jsonl through chapter 10's tool loop (`evaluate_chat`, greedy).
Reported per run: the evaluation's metrics, the validation loss, trained parameters, the optimizer state's bytes (read
from the run's checkpoint) and training tokens/s (the engine's). The untouched base model is scored too, as the floor.
The runs are sequential, so on a shared machine tokens/s compares only roughly.

    .venv/bin/python scripts/lora_vs_full.py [--steps 60] [--held 40] [--rank 16] [--out runs/lora_vs_full]

Writes OUT/results.json and prints a table.
"""
from __future__ import annotations
import argparse, json, sys, time
from pathlib import Path


def optimizer_bytes(run: Path) -> int:
    "Bytes of the optimizer state (AdamW's moments) in the run's checkpoint."
    import torch
    ck = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=True)
    return sum(t.numel() * t.element_size() for s in ck["optimizer"]["state"].values() for t in s.values()
               if torch.is_tensor(t) and t.dim())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--init", default=None, help="base model folder (default: data/demo_model)")
    p.add_argument("--steps", type=int, default=60); p.add_argument("--held", type=int, default=40)
    p.add_argument("--rank", type=int, default=16); p.add_argument("--lora-lr", type=float, default=1e-2)
    p.add_argument("--full-lr", type=float, default=None, help="default: chapter 14's SFT_CONFIG.lr")
    p.add_argument("--threads", type=int, default=2); p.add_argument("--out", default="runs/lora_vs_full")
    p.add_argument("--only", choices=("base", "full", "lora"), action="append", help="run only these (repeatable)")
    a = p.parse_args(argv)
    import torch
    from llama31_edu.tokenizer import DEMO_MODEL, Tokenizer
    from llama31_edu.checkpoints import load_checkpoint
    from llama31_edu.sft import SFT_CONFIG, SFT_DATA, evaluate_chat, load_dialogs
    from llama31_edu.lora import lora_sft_cli, load_with_adapters, trainable_params
    torch.set_num_threads(a.threads)
    init, out = Path(a.init or DEMO_MODEL), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(str(init / "tokenizer.model"))
    held = load_dialogs(SFT_DATA / "test.jsonl")[:a.held]
    common = ["--init", str(init), "--max-steps", str(a.steps), "--samples", "0", "--no-progress", "--eval-every", str(a.steps),
              "--ckpt-every", str(a.steps), "--threads", str(a.threads)]
    runs = {"full": ["--lr", str(a.full_lr or SFT_CONFIG.lr)],
            "lora": ["--lr", str(a.lora_lr), "--lora-rank", str(a.rank)]}
    for name in a.only or ("base", "full", "lora"):
        t0 = time.time()
        if name == "base":
            model = load_checkpoint(init, dtype=torch.float32, max_seq_len=1024)
            row = dict(trained_params=0, optimizer_bytes=0, tokens_per_second=None, val_loss=None)
        else:
            run = out / name
            if (rc := lora_sft_cli(common + runs[name] + ["--out", str(run)])) != 0: return rc
            m = json.loads((run / "metrics.json").read_text())
            model = (load_with_adapters(run / "model", max_seq_len=1024) if name == "lora"
                     else load_checkpoint(run / "model", dtype=torch.float32, max_seq_len=1024))
            row = dict(trained_params=trainable_params(model) if name == "lora" else sum(p.numel() for p in model.parameters()),
                       optimizer_bytes=optimizer_bytes(run), tokens_per_second=m["tokens_per_second"], val_loss=m["val_loss"],
                       steps=m["steps"], lr=float(runs[name][1]))
        ev = evaluate_chat(model.eval(), tok, held)
        row.update(ev.metrics, seconds=round(time.time() - t0, 1))
        results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
        results[name] = row                                   # re-read: runs with --only may go side by side
        (out / "results.json").write_text(json.dumps(results, indent=1))
        print(name, json.dumps(row), flush=True)
    results = {k: results[k] for k in ("base", "full", "lora") if k in results}
    keys = ("trained_params", "optimizer_bytes", "tokens_per_second", "val_loss", "tool_call_validity",
            "arithmetic_exact_match", "no_tool_accuracy", "refusal_precision", "refusal_recall", "needless_tool_calls")
    print("\n| | " + " | ".join(results) + " |\n|---|" + "---|" * len(results))
    fmt = lambda v: "-" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:.3f}" if isinstance(v, float) else str(v)
    for k in keys: print(f"| {k} | " + " | ".join(fmt(results[n].get(k)) for n in results) + " |")
    return 0


if __name__ == "__main__": sys.exit(main())

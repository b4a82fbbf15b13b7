#!/usr/bin/env python
"""Experiment: when does the demo model learn to copy (induction heads), and does fine-tuning then reach the tool goal?

Each configuration pre-trains the demo preset (chapter 8's engine, `llama31-edu train`) on Shakespeare plus a share of
generated copy-and-recall documents, logs the copy losses at every checkpoint (loss on the second copy of a repeated
span: it falls below the first copy's when induction heads form), measures Shakespeare bits/char, fine-tunes with
chapter 14's recipe for the steps 2 CPU cores do in the demo's budget, scores the chat loop on data/sft/val.jsonl,
and for some runs repeats chapter 13's continued pre-training at 1,024 tokens and its passkey test. Configurations
run in parallel worker processes; steps and batches are those of the CPU runs, so a GPU only makes them faster.
Chapter 14 ("When do induction heads appear?") gives the law that sizes these runs and the results so far.

    python scripts/induction_sweep.py --out runs/sweep --device cuda --workers 6     # ~8 min on one H200
    python scripts/induction_sweep.py --out runs/sweep --device cpu --smoke --only b16_f50_300   # plumbing, ~1 min
"""
from __future__ import annotations
import argparse, json, math, os, random, re, subprocess, sys, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONFIGS = {      # batch x 128-token windows; the copy curve is logged every 500 steps
    "b64_f50_6000":  dict(frac=0.50, steps=6000, batch=64, lc=True, keep=True),
    "b16_f50_10000": dict(frac=0.50, steps=10000, batch=16, lc=True, keep=True),
    "b16_f30_10000": dict(frac=0.30, steps=10000, batch=16),
    "b16_f0_10000":  dict(frac=0.0, steps=10000, batch=16),
    "b16_f50_300":   dict(frac=0.50, steps=300, batch=16),       # what the 4.5-minute CPU demo can afford
    "b16_small_3000": dict(frac=0.50, steps=3000, batch=16, families="digits,letters,recall,calc,line", lc=True, keep=True),
}


def copy_documents(rng: random.Random, n_chars: int, lines: list[str], words: list[str], families: str = "all") -> list[str]:
    "Short synthetic documents whose second half can only be predicted by copying the first."
    def num():
        n = rng.randint(0, 10 ** rng.randint(1, 4) - 1)
        return str(-n if rng.random() < 0.1 else n)
    fams = ["echo", "line", "recall", "calc", "digits", "letters"] if families == "all" else families.split(",")
    out, size = [], 0
    while size < n_chars:
        k = rng.choice(fams)
        if k == "echo":
            ws = " ".join(rng.choice(words) for _ in range(rng.randint(3, 16)))
            doc = f"Say after me: {ws}.\n{ws}."
        elif k == "line":
            ls = " ".join(rng.sample(lines, rng.randint(1, 2)))
            doc = f"{ls}\nOnce more: {ls}"
        elif k == "recall":
            n = num(); filler = " ".join(rng.sample(lines, rng.randint(0, 2)))
            doc = f"The number is {n}. {filler}\nWhat was the number? {n}."
        elif k == "digits":          # a small alphabet (digits, operators): the copy is learnt fastest here
            expr = f" {rng.choice('+-*/')} ".join(num().lstrip("-") for _ in range(rng.randint(2, 4)))
            doc = f"Copy: {expr}\nAgain: {expr}\nOnce more: {expr}"
        elif k == "letters":
            ls = " ".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(6, 20)))
            doc = f"Spell: {ls}\nAgain: {ls}"
        else:
            a, b, op = num(), num(), rng.choice("+-*")
            r = eval(f"({a}){op}({b})")
            doc = f"Work out {a} {op} {b}.\nThe calculator says {r}.\nSo {a} {op} {b} = {r}."
        out.append(doc); size += len(doc) + 2
    return out


def make_corpus(d: Path, frac: float, families: str = "all", seed: int = 0) -> Path:
    shakes = (ROOT / "data/shakespeare.txt").read_text()
    d.mkdir(parents=True, exist_ok=True)
    (d / "shakespeare.txt").write_text(shakes)
    if frac > 0:
        lines = [l.strip() for l in shakes.splitlines() if len(l.strip()) > 15 and not l.strip().isupper()]
        counts = {}
        for w in re.findall(r"[A-Za-z']+", shakes): counts[w] = counts.get(w, 0) + 1
        words = sorted(w for w, c in counts.items() if c >= 3)
        docs = copy_documents(random.Random(seed), int(len(shakes) * frac / (1 - frac)), lines, words, families)
        (d / "copies.txt").write_text("\n\n".join(docs) + "\n")   # sorts before shakespeare.txt: validation stays Shakespeare
    return d


def copy_losses(model, tok, device) -> dict:
    """Mean loss on the first and the second copy of repeated spans: chapter 14's `copy_test` (random tokens, 16 spans of
    30, and 16 spans of lengths 12-42, which a fixed-offset head cannot pass) and `number_copy_test` (expressions of
    fresh numbers), plus six numbers said twice in prose (second copy only). `device` is where `model` already is."""
    import torch, torch.nn.functional as F
    from llama31_edu.sft import copy_test, number_copy_test
    rng, res = random.Random(0), {}
    res["rand_first"], res["rand_second"] = copy_test(model, (30,) * 16, seed=0)
    res["var_first"], res["var_second"] = copy_test(model, range(12, 44, 2), seed=1)
    tot = []
    with torch.no_grad():
        for _ in range(16):
            s = " ".join(str(rng.randint(0, 9999)) for _ in range(6))
            a, b = tok.encode("Here: " + s + ".", bos=True, eos=False), tok.encode(" Again: " + s, bos=False, eos=False)
            skip = len(tok.encode(" Again:", bos=False, eos=False))
            ids = torch.tensor([a + b], device=device)
            ll = F.cross_entropy(model(ids[:, :-1]).float()[0], ids[0, 1:], reduction="none")
            tot.append(ll[len(a) - 1 + skip:].mean().item())
    res["digits_second"] = sum(tot) / len(tot)
    res["expr_first"], res["expr_second"] = number_copy_test(model, tok, rows=16, seed=0)
    return {k: round(v, 3) for k, v in res.items()}


def shakespeare_bits(model, tok, device) -> float:
    import torch, torch.nn.functional as F, numpy as np
    text = (ROOT / "data/shakespeare.txt").read_text()
    val = text[int(len(text) * 0.9):]
    ids = np.array(tok.encode(val, bos=False, eos=False))
    T = 128; n = (len(ids) - 1) // T
    x = torch.from_numpy(ids[:n * T].reshape(n, T)).to(device); y = torch.from_numpy(ids[1:n * T + 1].reshape(n, T)).to(device)
    tot = 0.0
    with torch.no_grad():
        for i in range(0, n, 64):
            tot += F.cross_entropy(model(x[i:i + 64]).float().flatten(0, 1), y[i:i + 64].flatten(), reduction="sum").item()
    return round(tot / math.log(2) / (len(val) * n * T / len(ids)), 4)    # chars covered, pro rata


def long_context(run: Path, device: str, smoke: bool) -> dict:
    "Chapter 13's recipe from this base: passkey before, continue pre-training at 1,024 (llama3 x8, doc mask), passkey after."
    import torch
    from llama31_edu.distributed import cli_main
    from llama31_edu.train import DEMO_CONFIG
    from llama31_edu.long_context import write_long_context_corpus, passkey_accuracy, with_args
    from llama31_edu.model import extend_context
    from llama31_edu.checkpoints import load_checkpoint
    from llama31_edu.tokenizer import Tokenizer
    tok = Tokenizer(ROOT / "data/demo_tokenizer.model")
    L, D = [128, 256, 512, 1024], [0.0, 0.25, 0.5, 0.75, 1.0]
    base = load_checkpoint(run / "pretrain" / "model", dtype=torch.float32)
    ext = with_args(base, extend_context(base.args, 1024, "llama3", 8.0, 128))
    out = {"passkey_before": passkey_accuracy(ext, tok, L[:2] if smoke else L, D, trials=4).round(2).tolist()}
    mix = write_long_context_corpus(run / "lcmix", (ROOT / "data/shakespeare.txt").read_text(), n_passkey=800, seed=0)
    for steps in ((2,) if smoke else (30, 120)):
        rc = cli_main(["--init", str(run / "pretrain" / "model"), "--text", str(mix), "--seq-len", "1024", "--rope-scaling", "llama3",
                       "--rope-factor", "8", "--rope-original-len", "128", "--doc-mask", "--batch-size", "2", "--max-steps", str(steps),
                       "--lr", "1e-3", "--warmup-steps", "4", "--eval-every", "100000", "--eval-batches", "2", "--ckpt-every", "100000",
                       "--out", str(run / f"lc{steps}"), "--no-progress", "--samples", "0", "--device", device, "--dtype", "fp32",
                       "--cache-dir", str(run / "cache"), "--time-budget", "100000"], defaults=DEMO_CONFIG, prog="longctx")
        assert rc == 0, f"long context failed ({rc})"
        m = load_checkpoint(run / f"lc{steps}" / "model", dtype=torch.float32)
        out[f"passkey_after_{steps}"] = passkey_accuracy(m, tok, L[:2] if smoke else L, D, trials=8, seed=1).round(2).tolist()
    print(run.name, "long context", out, flush=True)
    return out


def worker(name: str, cfg: dict, out: Path, device: str, smoke: bool) -> dict:
    import torch
    torch.set_num_threads(1 if device.startswith("cuda") else 2)
    from llama31_edu.distributed import cli_main
    from llama31_edu.train import DEMO_CONFIG
    from llama31_edu.sft import sft_cli, evaluate_chat, load_dialogs
    from llama31_edu.checkpoints import load_checkpoint
    from llama31_edu.tokenizer import Tokenizer
    run = out / name; t0 = time.time()
    corpus = make_corpus(run / "corpus", cfg["frac"], cfg.get("families", "all"))
    steps = 6 if smoke else cfg["steps"]
    curve, stop = [], threading.Event()
    def track():                       # the copy loss at each new checkpoint: when do induction heads appear?
        seen = None
        tok = Tokenizer(ROOT / "data/demo_tokenizer.model")
        probe = None
        while not stop.wait(5):
            ck = run / "pretrain" / "checkpoint.json"
            if not ck.exists(): continue
            step = json.loads(ck.read_text()).get("step")
            if step == seen: continue
            try:
                sd = torch.load(run / "pretrain" / "checkpoint.pt", weights_only=True, map_location=device)
                if probe is None:
                    from llama31_edu.model import Transformer, ModelArgs
                    probe = Transformer(ModelArgs.from_preset("demo")).to(device).eval()
                probe.load_state_dict(sd.get("model", sd), strict=False); seen = step
                curve.append(dict(step=step, **copy_losses(probe, tok, torch.device(device))))
                print(name, "copy", curve[-1], flush=True)
            except Exception as e: print(name, "tracker:", e, flush=True)
    tracker = threading.Thread(target=track, daemon=True); tracker.start()
    rc = cli_main(["--text", str(corpus), "--out", str(run / "pretrain"), "--max-steps", str(steps), "--time-budget", "100000",
                   "--device", device, "--dtype", "fp32", "--lr", str(cfg.get("lr", 3e-3)), "--no-progress", "--samples", "0",
                   "--cache-dir", str(run / "cache"), "--eval-every", "100000", "--ckpt-every", "500",
                   "--batch-size", str(cfg.get("batch", 16)), "--warmup-steps", "100",
                   "--tokenizer", str(ROOT / "data/demo_tokenizer.model")], defaults=DEMO_CONFIG, prog="pretrain")
    stop.set(); tracker.join()
    assert rc == 0, f"{name}: pretraining failed ({rc})"
    tok = Tokenizer(ROOT / "data/demo_tokenizer.model")
    dev = torch.device(device)
    m = load_checkpoint(run / "pretrain" / "model", dtype=torch.float32, device=dev).eval()
    if cfg.get("keep"):
        from llama31_edu.checkpoints import save_meta_checkpoint
        import shutil
        keep = out / "keep" / name
        save_meta_checkpoint(load_checkpoint(run / "pretrain" / "model"), keep, dtype=torch.bfloat16)
        shutil.copy(run / "pretrain" / "metrics.json", keep / "metrics.json")
        shutil.copy(run / "corpus" / "copies.txt", keep / "copies.txt")
    res = dict(name=name, **cfg, copy_curve=curve, pretrain_s=round(time.time() - t0, 1), bits_per_char=shakespeare_bits(m, tok, dev), **copy_losses(m, tok, dev))
    print(name, "pretrained", res, flush=True)
    sft_steps = 6 if smoke else cfg.get("sft_steps", 334)
    rc = sft_cli(["--init", str(run / "pretrain" / "model"), "--out", str(run / "sft"), "--max-steps", str(sft_steps),
                  "--device", device, "--dtype", "fp32", "--no-progress", "--samples", "0"])
    assert rc == 0, f"{name}: SFT failed ({rc})"
    m = load_checkpoint(run / "sft" / "model", dtype=torch.float32, device=dev, max_seq_len=512).eval()
    ds = load_dialogs(ROOT / "data/sft/val.jsonl")[: 10 if smoke else 100]
    ev = evaluate_chat(m, tok, ds)
    res.update({f"sft_{k}": (round(v, 3) if isinstance(v, float) else v) for k, v in ev.metrics.items()})
    res["sft_copy"] = copy_losses(m, tok, dev)
    res["examples"] = [(r["question"], [c["text"] for c in r["calls"]], r["reply"], r["reference"])
                       for r in ev.rows if r["family"] == "arithmetic"][:4]
    if cfg.get("lc"): res.update(long_context(run, device, smoke))
    res["total_s"] = round(time.time() - t0, 1)
    (run / "result.json").write_text(json.dumps(res, indent=1))
    print(name, "done", json.dumps(res), flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/sweep"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--only", default=None, help="comma-separated config names")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a.worker, CONFIGS[a.worker], a.out, a.device, a.smoke); return
    names = a.only.split(",") if a.only else list(CONFIGS)
    a.out.mkdir(parents=True, exist_ok=True)
    procs, pending = {}, list(names)
    while pending or procs:
        while pending and len(procs) < a.workers:
            n = pending.pop(0)
            log = open(a.out / f"{n}.log", "w")
            procs[n] = subprocess.Popen([sys.executable, __file__, "--worker", n, "--out", str(a.out), "--device", a.device]
                                        + (["--smoke"] if a.smoke else []), stdout=log, stderr=subprocess.STDOUT)
        time.sleep(2)
        for n, p in list(procs.items()):
            if p.poll() is not None:
                print(f"{n}: exit {p.returncode}", flush=True); del procs[n]
    rows = [json.loads((a.out / n / "result.json").read_text()) for n in names if (a.out / n / "result.json").exists()]
    keys = ["name", "frac", "steps", "bits_per_char", "rand_first", "rand_second", "var_first", "var_second", "digits_second", "sft_tool_call_validity",
            "sft_arithmetic_exact_match", "sft_no_tool_accuracy", "sft_refusal_precision", "sft_refusal_recall", "total_s"]
    print("| " + " | ".join(keys) + " |")
    for r in rows: print("| " + " | ".join(str(r.get(k, "")) for k in keys) + " |")
    (a.out / "summary.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

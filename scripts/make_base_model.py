#!/usr/bin/env python
"""Make data/base_model/: the demo preset pre-trained long enough to copy numbers from its context (chapter 14).

`make demo`'s 4.5-minute pre-training (300 steps) leaves a model that cannot copy: asked "What's 4956 / 7?", its
fine-tuned self calls the calculator with made-up numbers. Copying needs induction heads, which form only after
many more steps (chapter 14, "When do induction heads appear?"). This script is the longer run, with the package's
own command: Shakespeare plus as much generated copy-and-recall text (scripts/induction_sweep.py's
`copy_documents`, families echo, line, recall and calc, seed 0), batch 4 x 128 tokens, lr 2e-3 on a 40,000-step
cosine schedule, and keeps the checkpoint of step 4,500 (2.3 M tokens; about 25 minutes on 2 CPU cores). The
schedule is longer than the run on purpose: at step 4,500 the learning rate is still 97.5% of its peak.

    python scripts/make_base_model.py [--run runs/base] [--step 4500]

Steps: write the corpus; run `llama31-edu train` (resumes RUN/pretrain if it is there); when its checkpoint.json
says --step, copy that checkpoint and stop the run with SIGTERM (it saves and exits); convert the copy to Meta's
format in bf16 with the demo tokenizer and a provenance.json (command, step, the checkpoint's SHA-256, copy probes).
"""
from __future__ import annotations
import argparse, hashlib, json, shutil, signal, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

FAMILIES = "echo,line,recall,calc"


def train_args(corpus: Path, out: Path, ckpt_every: int) -> list[str]:
    return ["--text", str(corpus), "--tokenizer", str(ROOT / "data/demo_tokenizer.model"), "--batch-size", "4",
            "--max-steps", "40000", "--lr", "2e-3", "--warmup-steps", "100", "--ckpt-every", str(ckpt_every),
            "--eval-every", "2000", "--eval-batches", "4", "--log-every", "250", "--no-progress", "--samples", "0",
            "--threads", "2", "--out", str(out)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="make_base_model.py", description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/base"), help="working folder (default: %(default)s)")
    ap.add_argument("--step", type=int, default=4500, help="the step whose checkpoint is kept (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=ROOT / "data/base_model", help="model folder to write (default: %(default)s)")
    a = ap.parse_args(argv)
    if a.step < 1: ap.error(f"--step must be at least 1, got {a.step}")
    import torch
    from induction_sweep import make_corpus, copy_losses
    from llama31_edu.model import Transformer, ModelArgs
    from llama31_edu.checkpoints import save_meta_checkpoint
    from llama31_edu.tokenizer import DEMO_TOKENIZER, Tokenizer, atomic_write

    corpus = make_corpus(a.run / "corpus", 0.5, families=FAMILIES)
    pre, kept = a.run / "pretrain", a.run / f"step{a.step}.pt"
    every = 500 if a.step % 500 == 0 else a.step          # checkpoints do not change the arithmetic, only where it stops
    args = train_args(corpus, pre, every)
    if not kept.exists():
        cmd = [sys.executable, "-m", "llama31_edu.cli", "train"] + args + (["--resume"] if (pre / "run.json").exists() else [])
        print("running:", " ".join(cmd), flush=True)
        proc = subprocess.Popen(cmd, cwd=ROOT)
        while proc.poll() is None:
            ck = pre / "checkpoint.json"
            step = json.loads(ck.read_text()).get("step") if ck.exists() else None
            if step == a.step:
                shutil.copy(pre / "checkpoint.pt", kept)
                proc.send_signal(signal.SIGTERM); proc.wait(); break
            if step is not None and step > a.step:
                proc.send_signal(signal.SIGTERM); proc.wait()
                sys.exit(f"make_base_model: {pre} is already past step {a.step} (at {step}): start again with another --run")
            time.sleep(0.5)
        if not kept.exists(): sys.exit(f"make_base_model: the training run stopped (exit {proc.returncode}) before step {a.step}")
    ck = torch.load(kept, weights_only=True, map_location="cpu")
    model = Transformer(ModelArgs.from_preset("demo"))
    model.load_state_dict(ck["model"])
    save_meta_checkpoint(model, a.out, dtype=torch.bfloat16)
    atomic_write(a.out / "tokenizer.model", DEMO_TOKENIZER.read_bytes())
    probes = copy_losses(model.eval(), Tokenizer(DEMO_TOKENIZER), "cpu")
    record = dict(command="llama31-edu train " + " ".join(args).replace(str(ROOT) + "/", ""),
                  corpus=f"data/shakespeare.txt + scripts/induction_sweep.py make_corpus(frac=0.5, families={FAMILIES!r}, seed=0)",
                  step=a.step, tokens=a.step * 4 * 128, checkpoint_sha256=hashlib.sha256(kept.read_bytes()).hexdigest(),
                  stored_dtype="bfloat16", tokenizer="tokenizer.model (a copy of data/demo_tokenizer.model)",
                  copy_probes_nats=probes)
    atomic_write(a.out / "provenance.json", json.dumps(record, indent=1) + "\n")
    print(f"wrote {a.out}: step {a.step}; copy probes {probes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

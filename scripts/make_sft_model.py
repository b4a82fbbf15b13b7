"""Make data/sft_model/: data/base_model fine-tuned on data/sft/ (chapter 14), in bf16, for chapters 10, 14, 15 and 16.

    python scripts/make_sft_model.py [--init data/base_model] [--steps N] [--run runs/sft-model] [--threads 2]

Two steps, both the package's own commands:
1. `llama31-edu sft --init INIT --out RUN`: chapter 14's `SFT_CONFIG`, 400 steps unless --steps says otherwise
   (resumes RUN if it is already there). 400 steps is about what `llama31-edu demo`'s 170-second fine-tuning buys on a
   quiet 2-core machine; a step count, not a time, so that the model does not depend on the machine's speed.
2. `llama31-edu convert RUN/model data/sft_model --to meta --dtype bf16` (chapter 6), plus a provenance.json.
Training is deterministic for a given --init on CPU; the run folder keeps metrics.json, loss.png and run.json.
"""
from __future__ import annotations
import argparse, json, os, shutil, sys
from pathlib import Path

from llama31_edu.checkpoints import convert_cli, sha256_file
from llama31_edu.sft import SFT_BASE, SFT_CONFIG, sft_cli
from llama31_edu.tokenizer import DATA_DIR, atomic_write


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="make_sft_model.py", description=__doc__.splitlines()[0])
    ap.add_argument("--init", default=str(SFT_BASE), help="the pre-trained model folder (default: %(default)s)")
    ap.add_argument("--steps", type=int, default=SFT_CONFIG.max_steps, help="optimizer steps (default: %(default)s)")
    ap.add_argument("--run", default="runs/sft-model", help="the fine-tuning run folder (default: %(default)s)")
    ap.add_argument("--out", default=str(DATA_DIR / "sft_model"), help="where the bf16 model goes (default: %(default)s)")
    ap.add_argument("--threads", default=None, help="CPU threads for torch")
    a = ap.parse_args(argv)
    run = Path(a.run)
    if not (run / "model" / "params.json").exists():
        args = ["--init", a.init, "--out", str(run), "--max-steps", str(a.steps), "--no-progress"] + (["--threads", a.threads] if a.threads else [])
        if (run / "run.json").exists(): args.append("--resume")
        if (rc := sft_cli(args)) != 0: return rc
    out = Path(a.out)
    if out.exists(): shutil.rmtree(out)
    if (rc := convert_cli([str(run / "model"), str(out), "--to", "meta", "--dtype", "bf16"])) != 0: return rc
    record, metrics = json.loads((run / "run.json").read_text()), json.loads((run / "metrics.json").read_text())
    init = os.path.relpath(a.init, DATA_DIR.parent)      # as the repository names it, not this machine's path
    atomic_write(out / "provenance.json", json.dumps({   # what made these weights; SHA256SUMS covers the model files
        "command": f"python scripts/make_sft_model.py --init {init} --steps {a.steps}",
        "init_sha256": sha256_file(Path(a.init) / "consolidated.00.pth") if (Path(a.init) / "consolidated.00.pth").exists() else None,
        "data_sha256": record["identity"]["data_sha256"], "train": record["identity"]["train"] | {"init": init},
        "steps": metrics["steps"], "tokens_seen": metrics["tokens_seen"], "val_loss": round(metrics["val_loss"], 4),
        "stored_dtype": "bfloat16"}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

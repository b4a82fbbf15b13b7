"""Make data/sft_model/: the demo model fine-tuned on data/sft/ (chapter 14), stored in bf16 for chapter 10's chat demo.

    python scripts/make_sft_model.py --init runs/demo-XXXX/model [--run runs/sft-model] [--threads 2]

Two steps, both the package's own commands: `llama31-edu sft --init INIT --out RUN` (the defaults of chapter 14's
`SFT_CONFIG`; resumes RUN if it is already there), then `llama31-edu convert RUN/model data/sft_model --to meta
--dtype bf16` (chapter 6). Training is deterministic for a given --init on CPU; the fine-tuning run folder keeps
metrics.json, loss.png and run.json (the provenance: the --init folder, the data's SHA-256, every setting).
"""
from __future__ import annotations
import argparse, shutil, sys
from pathlib import Path

from llama31_edu.checkpoints import convert_cli
from llama31_edu.sft import sft_cli
from llama31_edu.tokenizer import DATA_DIR


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="make_sft_model.py", description=__doc__.splitlines()[0])
    ap.add_argument("--init", required=True, help="the pre-trained demo model folder (a demo run's model/)")
    ap.add_argument("--run", default="runs/sft-model", help="the fine-tuning run folder (default: %(default)s)")
    ap.add_argument("--out", default=str(DATA_DIR / "sft_model"), help="where the bf16 model goes (default: %(default)s)")
    ap.add_argument("--threads", default=None, help="CPU threads for torch")
    a = ap.parse_args(argv)
    run = Path(a.run)
    if not (run / "model" / "params.json").exists():
        args = ["--init", a.init, "--out", str(run), "--no-progress"] + (["--threads", a.threads] if a.threads else [])
        if (run / "run.json").exists(): args.append("--resume")
        if (rc := sft_cli(args)) != 0: return rc
    out = Path(a.out)
    if out.exists(): shutil.rmtree(out)
    return convert_cli([str(run / "model"), str(out), "--to", "meta", "--dtype", "bf16"]) or 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers for the distributed tests, which drive the real `llama31-edu train` under real `torchrun` (2 processes,
gloo on CPU), and the clear-error tests. The other `test_distributed_*.py` files import from here."""
from __future__ import annotations
import json, os, re, subprocess, sys, uuid
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
# One thread per rank (two ranks on a 2-core machine), no inherited torchrun variables.
BASE_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
for _v in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "LOCAL_WORLD_SIZE", "GROUP_RANK"):
    BASE_ENV.pop(_v, None)

# A model small enough for CPU tests, with the demo tokenizer's vocabulary (4,096 BPE ranks + 256 specials).
TINY = {"dim": 64, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2, "vocab_size": 4352, "multiple_of": 32, "max_seq_len": 64}

def make_text(d: Path) -> Path:
    "120 KB of the demo corpus: enough windows for a few steps and a validation split, quick to tokenise."
    from llama31_edu.tokenizer import DEMO_CORPUS
    p = d / "text.txt"
    if not p.exists(): p.write_bytes(Path(DEMO_CORPUS).read_bytes()[:120_000].decode("utf-8", "ignore").encode())
    return p

def train_args(text: Path, out: Path, *extra: str, steps: int = 10, global_batch: int = 4, seed: int = 3,
               ckpt_every: int = 5) -> list[str]:
    "`llama31-edu train` options for a tiny run on `text` into `out` (no samples, no progress bar)."
    from llama31_edu.tokenizer import DEMO_TOKENIZER
    return ["--text", str(text), "--tokenizer", str(DEMO_TOKENIZER), "--config", json.dumps(TINY), "--seq-len", "32",
            "--max-steps", str(steps), "--global-batch", str(global_batch), "--seed", str(seed), "--lr", "3e-3",
            "--warmup-steps", "2", "--eval-every", "1000", "--ckpt-every", str(ckpt_every), "--samples", "0",
            "--no-progress", "--cache-dir", str(text.parent / "token-cache"), "--out", str(out), *extra]

def torchrun_cmd(nproc: int, args: list[str]) -> list[str]:
    return [PY, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "llama31_edu.cli",
            "train", *args]

def torchrun(nproc: int, args: list[str], *, check: bool = True, timeout: float = 150, env: dict | None = None):
    "`torchrun --standalone --nproc_per_node nproc -m llama31_edu.cli train args`, to completion."
    r = subprocess.run(torchrun_cmd(nproc, args), cwd=ROOT, env={**BASE_ENV, **(env or {})},
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"torchrun exited {r.returncode}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-5000:]}")
    return r

def train_in_process(args: list[str]) -> None:
    "`llama31-edu train args` as one process, inside pytest (saves a Python start-up)."
    from llama31_edu.train import cli_main
    threads = torch.get_num_threads()
    try: assert cli_main([*args, "--threads", "1"]) == 0      # like each torchrun rank (OMP_NUM_THREADS=1)
    finally: torch.set_num_threads(threads)

def losses(out: Path) -> list[float]:
    "The per-step training losses a run recorded in its checkpoint (one process or sharded)."
    single, sharded = out / "checkpoint.pt", out / "checkpoint" / "extra.pt"
    extra = torch.load(single, weights_only=True)["extra"] if single.exists() else torch.load(sharded, weights_only=True)
    return [loss for _, loss in extra["history"]["train"]]

def final_weights(out: Path) -> dict:
    return torch.load(out / "model" / "consolidated.00.pth", weights_only=True)

def max_rel(a: list[float], b: list[float]) -> float:
    assert len(a) == len(b), (len(a), len(b))
    return max(abs(x - y) / abs(x) for x, y in zip(a, b))

def max_abs(sd_a: dict, sd_b: dict) -> float:
    assert sd_a.keys() == sd_b.keys(), set(sd_a) ^ set(sd_b)
    return max((sd_a[k].float() - sd_b[k].float()).abs().max().item() for k in sd_a)

def pids_with_env(marker: str, **want: str) -> list[int]:
    "Our processes whose environment has LLAMA31_EDU_TEST_MARKER=marker and each want[k] (e.g. RANK='1')."
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit(): continue
        try: env = dict(kv.split("=", 1) for kv in (d / "environ").read_bytes().decode(errors="replace").split("\0") if "=" in kv)
        except (OSError, ValueError): continue
        if env.get("LLAMA31_EDU_TEST_MARKER") == marker and all(env.get(k) == v for k, v in want.items()):
            found.append(int(d.name))
    return found

def new_marker() -> str: return uuid.uuid4().hex


# ---- clear errors -----------------------------------------------------------------------------------------------------
from llama31_edu.distributed import DistEnv, init_distributed, micro_batch_size, TORCHRUN_VARS

def test_unknown_strategy():
    with pytest.raises(ValueError, match="unknown strategy 'zero3'.*single, ddp, fsdp"):
        init_distributed("zero3")

@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_strategy_needs_torchrun(strategy, monkeypatch):
    for v in TORCHRUN_VARS: monkeypatch.delenv(v, raising=False)
    with pytest.raises(RuntimeError, match=rf"--strategy {strategy} needs the environment torchrun sets .*"
                                           r"torchrun --nproc_per_node N -m llama31_edu.cli train"):
        init_distributed(strategy)

def test_global_batch_not_divisible():
    with pytest.raises(ValueError, match="global batch 7 is not divisible by world size 2"):
        micro_batch_size(7, DistEnv("ddp", rank=0, world_size=2, backend="gloo"))

def test_cli_errors(tmp_path):
    "Through the real command: unknown strategy, fsdp without torchrun, and a global batch 2 ranks do not divide."
    text = make_text(tmp_path)
    r = subprocess.run([PY, "-m", "llama31_edu.cli", "train", *train_args(text, tmp_path / "a", "--strategy", "zero3")],
                       cwd=ROOT, env=BASE_ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "invalid choice: 'zero3'" in r.stderr, r.stderr[-2000:]
    r = subprocess.run([PY, "-m", "llama31_edu.cli", "train", *train_args(text, tmp_path / "b", "--strategy", "fsdp")],
                       cwd=ROOT, env=BASE_ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "torchrun --nproc_per_node N -m llama31_edu.cli train" in r.stderr, r.stderr[-2000:]
    r = torchrun(2, train_args(text, tmp_path / "c", "--strategy", "ddp", global_batch=3), check=False)
    assert r.returncode != 0, r.stdout[-2000:]
    assert "global batch 3 is not divisible by world size 2" in r.stderr, r.stderr[-3000:]
    assert not (tmp_path / "c" / "checkpoint").exists()

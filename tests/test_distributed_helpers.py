"""Shared helpers for the distributed tests (real `torchrun` subprocesses, gloo on CPU), and the in-process error tests.

The other `test_distributed_*.py` files import `torchrun`, `run_single`, `read_run` from here."""
from __future__ import annotations
import json, os, re, subprocess, sys, time, uuid
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
# One thread per rank: two ranks on a 2-core machine, and reproducible reductions.
BASE_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
for _v in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "LOCAL_WORLD_SIZE", "GROUP_RANK"):
    BASE_ENV.pop(_v, None)

def job(*args: str) -> list[str]:
    "The program every rank runs: the self-check trainer of chapter 11."
    return ["-m", "llama31_edu.distributed", *args]

def torchrun_cmd(nproc: int, *args: str) -> list[str]:
    return [PY, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *job(*args)]

def torchrun(nproc: int, *args: str, check: bool = True, timeout: float = 120, env: dict | None = None):
    "Run `torchrun --standalone --nproc_per_node nproc -m ... args` to completion."
    r = subprocess.run(torchrun_cmd(nproc, *args), cwd=ROOT, env={**BASE_ENV, **(env or {})},
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"torchrun exited {r.returncode}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-5000:]}")
    return r

def run_plain(*args: str, check: bool = True, timeout: float = 120, env: dict | None = None):
    "The same program as one plain process (no torchrun)."
    r = subprocess.run([PY, *job(*args)], cwd=ROOT, env={**BASE_ENV, **(env or {})}, capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"exited {r.returncode}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-5000:]}")
    return r

def run_in_process(*args: str) -> None:
    "The same program with --strategy single inside this pytest process (saves a Python start-up)."
    from llama31_edu.distributed import selfcheck_main
    assert selfcheck_main(list(args)) == 0

def read_run(out: Path) -> tuple[list[float], dict]:
    "Losses (OUT.json) and final full weights (OUT.pt) that rank 0 wrote."
    losses = json.loads(out.with_suffix(".json").read_text())["losses"]
    return losses, torch.load(out.with_suffix(".pt"), weights_only=True)

def max_rel(a: list[float], b: list[float]) -> float:
    assert len(a) == len(b), (len(a), len(b))
    return max(abs(x - y) / abs(x) for x, y in zip(a, b))

def max_abs(sd_a: dict, sd_b: dict) -> float:
    assert sd_a.keys() == sd_b.keys(), set(sd_a) ^ set(sd_b)
    return max((sd_a[k].float() - sd_b[k].float()).abs().max().item() for k in sd_a)

def pids_with_env(marker: str, **want: str) -> list[int]:
    "Processes of ours whose environment holds TEST_MARKER=marker and every want[k] (e.g. RANK='1')."
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit(): continue
        try: env = dict(kv.split("=", 1) for kv in (d / "environ").read_bytes().decode(errors="replace").split("\0") if "=" in kv)
        except (OSError, ValueError): continue
        if env.get("LLAMA31_EDU_TEST_MARKER") == marker and all(env.get(k) == v for k, v in want.items()):
            found.append(int(d.name))
    return found

def new_marker() -> str: return uuid.uuid4().hex


# ---- clear errors, in process ---------------------------------------------------------------------------------------
from llama31_edu.distributed import DistEnv, init_distributed, micro_batch_size, TORCHRUN_VARS

def test_unknown_strategy():
    with pytest.raises(ValueError, match="unknown strategy 'zero3'.*single, ddp, fsdp"):
        init_distributed("zero3")

@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_strategy_needs_torchrun(strategy, monkeypatch):
    for v in TORCHRUN_VARS: monkeypatch.delenv(v, raising=False)
    with pytest.raises(RuntimeError, match=rf"--strategy {strategy} needs the environment torchrun sets .*torchrun --nproc_per_node N -m llama31_edu.cli train"):
        init_distributed(strategy)

def test_global_batch_not_divisible():
    with pytest.raises(ValueError, match="global batch 7 is not divisible by world size 2"):
        micro_batch_size(7, DistEnv("ddp", rank=0, world_size=2, backend="gloo"))

def test_errors_from_the_command_line():
    "The same errors through a real process: plain `python` with --strategy fsdp, and an unknown strategy."
    r = run_plain("--strategy", "fsdp", check=False)
    assert r.returncode != 0 and "torchrun --nproc_per_node N -m llama31_edu.cli train" in r.stderr, r.stderr[-2000:]
    r = run_plain("--strategy", "zero3", check=False)
    assert r.returncode != 0 and "unknown strategy 'zero3'" in r.stderr, r.stderr[-2000:]

"""Shared helpers and fixtures of the pytest tests: real `llama31-edu train` runs (one process, or `torchrun` with 2
gloo ranks on CPU), their checkpoints and weights. Tests get the helpers through the `h` fixture."""
from __future__ import annotations
import json, os, signal, subprocess, sys, time, uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
# One thread per rank (two ranks on a 2-core machine), no inherited torchrun variables.
BASE_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
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


def train_cmd(args: list[str]) -> list[str]:
    return [PY, "-m", "llama31_edu.cli", "train", *args]


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
    from llama31_edu.distributed import cli_main
    threads = torch.get_num_threads()
    try: assert cli_main([*args, "--threads", "1"]) == 0      # like each torchrun rank (OMP_NUM_THREADS=1)
    finally: torch.set_num_threads(threads)


def tiny_stage_folder(d: Path, data_dir: Path, n_train: int, n_val: int) -> Path:
    """A fine-tuning stage's test folder: `init/`, a tiny random model in Meta's format with the demo tokenizer (the
    --init folder), and the first `n_train` / `n_val` lines of `data_dir`'s train.jsonl / val.jsonl."""
    import torch
    from llama31_edu.model import ModelArgs, Transformer
    from llama31_edu.tokenizer import DEMO_TOKENIZER
    from llama31_edu.train import export_model
    torch.manual_seed(0)
    export_model(Transformer(ModelArgs(dim=32, n_layers=1, n_heads=2, n_kv_heads=1, vocab_size=4352, multiple_of=32,
                                       max_seq_len=256)), d / "init", DEMO_TOKENIZER)
    for name, n in (("train.jsonl", n_train), ("val.jsonl", n_val)):
        (d / name).write_text("".join((data_dir / name).read_text().splitlines(True)[:n]))
    return d


def extra(out: Path) -> dict:
    "The `extra` (step, history, ...) of a run's latest checkpoint, one file or sharded."
    from llama31_edu.train import latest_checkpoint
    ck = latest_checkpoint(out)
    return torch.load(ck / "extra.pt", weights_only=True) if ck.is_dir() else torch.load(ck, weights_only=True)["extra"]


def losses(out: Path) -> list[float]:
    "The per-step training losses a run recorded in its latest checkpoint."
    return [loss for _, loss in extra(out)["history"]["train"]]


def final_weights(out: Path) -> dict:
    return torch.load(out / "model" / "consolidated.00.pth", weights_only=True)


def max_rel(a: list[float], b: list[float]) -> float:
    assert len(a) == len(b), (len(a), len(b))
    return max(abs(x - y) / abs(x) for x, y in zip(a, b))


def max_abs(sd_a: dict, sd_b: dict) -> float:
    assert sd_a.keys() == sd_b.keys(), set(sd_a) ^ set(sd_b)
    return max((sd_a[k].float() - sd_b[k].float()).abs().max().item() for k in sd_a)


def assert_bitwise_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    bad = [k for k in a if not torch.equal(a[k], b[k])]
    assert not bad, f"{len(bad)} tensors differ, e.g. {bad[0]}: max |diff| {(a[bad[0]] - b[bad[0]]).abs().max():.3g}"


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


def signal_when(proc: subprocess.Popen, line_prefix: str, signum: int, pids=None, timeout: float = 150) -> tuple[str, str]:
    "Read `proc`'s stdout; at its first line starting with `line_prefix` send `signum` (to `pids()`, else to `proc`). Returns stdout, stderr."
    seen, deadline = [], time.time() + timeout
    for line in proc.stdout:
        seen.append(line)
        if line.startswith(line_prefix):
            for pid in (pids() if pids else [proc.pid]): os.kill(pid, signum)
            break
        assert time.time() < deadline, "".join(seen)[-2000:]
    rest, err = proc.communicate(timeout=timeout)
    return "".join(seen) + (rest or ""), err or ""


@pytest.fixture(scope="session")
def h():
    "The helpers above, as one namespace."
    return SimpleNamespace(**{k: v for k, v in globals().items() if not k.startswith("_") and k.isidentifier()})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    "A 40 KB slice of the demo corpus and a byte-level tokenizer for `tiny` (256 ranks + 256 specials = 512 ids)."
    from llama31_edu.tokenizer import DEMO_CORPUS, train_bpe, save_tiktoken_bpe
    d = tmp_path_factory.mktemp("corpus")
    text = Path(DEMO_CORPUS).read_text(encoding="utf-8")[:40_000]
    (d / "text.txt").write_text(text, encoding="utf-8")
    save_tiktoken_bpe(train_bpe(text, 256), d / "bytes.model")
    return d

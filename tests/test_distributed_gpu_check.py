"""scripts/gpu_check.py's CPU path (tiny sizes): the GPU check must keep running between the times a GPU is at hand."""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_gpu_check_cpu_smoke(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    r = subprocess.run([sys.executable, "scripts/gpu_check.py", "--cpu-smoke", "--json", str(tmp_path / "gc.json")],
                       cwd=ROOT, env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    print(r.stdout)
    got = json.loads((tmp_path / "gc.json").read_text())
    for k in ("train_tokens_per_s", "train_mfu", "decode_tokens_per_s", "decode_bound_tokens_per_s", "decode_fraction",
              "decode_int8_tokens_per_s", "decode_int4_tokens_per_s", "decode_int8_fraction", "decode_int4_fraction"):
        assert got[k] > 0, (k, got)
    assert "MFU" in r.stdout and "of the bound" in r.stdout and "FAILED" not in r.stdout
    # the quantized rows (chapter 17) read fewer bytes per token than bf16
    assert got["decode_int4_bytes_per_token"] < got["decode_int8_bytes_per_token"] < got["decode_bytes_per_token"]

def test_gpu_check_without_gpu_says_so():
    r = subprocess.run([sys.executable, "scripts/gpu_check.py", "--skip-train"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert r.returncode == 2 and "--cpu-smoke" in r.stderr, r.stderr[-2000:]

"""Kill a process with SIGKILL while it rewrites a checkpoint, in both formats: the directory always loads and holds
one complete checkpoint (every tensor from the same save), never a mix of two saves or a half-written file."""
import random, signal, subprocess, sys, time

import pytest
import torch

from llama31_edu.checkpoints import load_checkpoint
from llama31_edu.model import ModelArgs, Transformer

ARGS = dict(dim=256, n_layers=4, n_heads=8, n_kv_heads=4, vocab_size=4096, multiple_of=64, max_seq_len=64)

# The writer saves again and again, raising every weight by 1 before each save; writer number r starts at 100*r.
# So a checkpoint is consistent iff all its tensors moved by the same whole number from the initial weights.
WRITER = r'''
import sys, torch
from llama31_edu.model import ModelArgs, Transformer
from llama31_edu.checkpoints import save_meta_checkpoint, save_hf_checkpoint
fmt, path, args, start = sys.argv[1], sys.argv[2], eval(sys.argv[3]), int(sys.argv[4])
torch.manual_seed(1)
m = Transformer(ModelArgs(**args))
with torch.no_grad():
    for p in m.parameters(): p.add_(float(start))
while True:
    with torch.no_grad():
        for p in m.parameters(): p.add_(1.0)
    if fmt == "meta": save_meta_checkpoint(m, path, n_shards=2)
    else: save_hf_checkpoint(m, path, max_shard_size="4MB")
'''


def save_number(path, initial):
    "Which save the checkpoint at `path` holds; fails if its tensors come from different saves."
    sd = load_checkpoint(path, dtype=torch.float32).state_dict()
    moved = {k: round((sd[k] - initial[k]).mean().item()) for k in initial}
    assert len(set(moved.values())) == 1, f"{path} mixes tensors of different saves: {sorted(set(moved.values()))}"
    return next(iter(moved.values()))


@pytest.mark.parametrize("fmt", ["meta", "hf"])
def test_sigkill_during_save_leaves_a_complete_checkpoint(tmp_path, fmt):
    torch.manual_seed(1)
    initial = {k: v.clone() for k, v in Transformer(ModelArgs(**ARGS)).state_dict().items()}
    rng, path = random.Random(0), tmp_path / "ckpt"
    for r in range(2):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, fmt, str(path), repr(ARGS), str(100 * r)])
        try:
            deadline = time.time() + 60
            while time.time() < deadline:                     # until this writer has completed a save
                assert proc.poll() is None, f"writer exited with code {proc.returncode}"
                if path.exists() and save_number(path, initial) > 100 * r: break
                time.sleep(0.2)
            else: pytest.fail("the writer did not complete a save within 60 s")
            time.sleep(rng.uniform(0.0, 0.3))                 # then kill it at a random point of a later save
            proc.send_signal(signal.SIGKILL); proc.wait()
        finally:
            if proc.poll() is None: proc.kill(); proc.wait()
        n = save_number(path, initial)                        # loads, and every tensor is from one save
        assert 100 * r < n < 100 * (r + 1), n
        assert not [p for p in path.iterdir() if p.name.startswith(".")], "temporary files inside the checkpoint"

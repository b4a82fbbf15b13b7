"""10 steps of DDP and of FSDP2 on 2 processes (gloo, CPU) equal one process with the same global batch."""
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from test_distributed_helpers import torchrun, run_in_process, read_run, max_rel, max_abs

STEPS, GLOBAL_BATCH = "10", "8"

def test_ddp_and_fsdp_equal_single_process(tmp_path):
    common = ["--steps", STEPS, "--global-batch", GLOBAL_BATCH, "--seed", "3"]
    run_in_process("--strategy", "single", *common, "--out", str(tmp_path / "single"))
    torchrun(2, "--strategy", "ddp", *common, "--out", str(tmp_path / "ddp"))
    torchrun(2, "--strategy", "fsdp", "--activation-checkpointing", *common, "--out", str(tmp_path / "fsdp"))
    ref_losses, ref_w = read_run(tmp_path / "single")
    assert len(ref_losses) == 10 and ref_losses[-1] < ref_losses[0], ref_losses
    for name in ("ddp", "fsdp"):
        losses, w = read_run(tmp_path / name)
        rel, dw = max_rel(ref_losses, losses), max_abs(ref_w, w)
        print(f"{name}: max relative loss difference {rel:.2e}, max |weight difference| {dw:.2e}")
        assert rel <= 1e-5, (name, rel, ref_losses, losses)
        assert dw <= 1e-5, (name, dw)

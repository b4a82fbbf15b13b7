"""A sharded checkpoint written by 2 ranks (FSDP2) resumes on 1 process and on 2 ranks to the same next loss."""
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from test_distributed_helpers import torchrun, run_in_process, read_run, max_rel

def test_two_rank_checkpoint_resumes_on_one_and_two(tmp_path):
    ck = tmp_path / "ckpt"
    common = ["--steps", "6", "--global-batch", "4", "--seed", "5", "--ckpt", str(ck)]
    torchrun(2, "--strategy", "fsdp", *common, "--save-every", "5", "--out", str(tmp_path / "full"))
    full, _ = read_run(tmp_path / "full")
    assert (ck / ".metadata").is_file() and (ck / "__1_0.distcp").is_file(), sorted(p.name for p in ck.iterdir())
    run_in_process("--strategy", "single", *common, "--resume", "--out", str(tmp_path / "one"))
    torchrun(2, "--strategy", "fsdp", *common, "--resume", "--out", str(tmp_path / "two"))
    one, _ = read_run(tmp_path / "one")
    two, _ = read_run(tmp_path / "two")
    print(f"step 6 loss: uninterrupted {full[-1]:.7f}, resumed on 1 process {one[0]:.7f}, on 2 ranks {two[0]:.7f}")
    assert len(one) == len(two) == 1
    assert max_rel(full[-1:], one) <= 1e-5 and max_rel(full[-1:], two) <= 1e-5, (full, one, two)

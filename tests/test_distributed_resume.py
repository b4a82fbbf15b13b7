"""A sharded checkpoint written by 2 ranks (FSDP2) resumes on 1 process and on 2 ranks to the same next loss."""
import shutil, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from test_distributed_helpers import make_text, train_args, torchrun, train_in_process, losses, max_rel

def test_two_rank_checkpoint_resumes_on_one_and_two(tmp_path):
    text = make_text(tmp_path)
    torchrun(2, train_args(text, tmp_path / "two", "--strategy", "fsdp", steps=6, ckpt_every=6))
    ck = tmp_path / "two" / "checkpoint"
    assert (ck / ".metadata").is_file() and (ck / "__0_0.distcp").is_file() and (ck / "__1_0.distcp").is_file(), \
        sorted(p.name for p in ck.iterdir())
    shutil.copytree(tmp_path / "two", tmp_path / "one")
    first = losses(tmp_path / "two")
    train_in_process(train_args(text, tmp_path / "one", "--strategy", "single", "--resume", steps=7, ckpt_every=7))
    torchrun(2, train_args(text, tmp_path / "two", "--strategy", "fsdp", "--resume", steps=7, ckpt_every=7))
    one, two = losses(tmp_path / "one"), losses(tmp_path / "two")
    print(f"step 7 loss after resuming the 2-rank checkpoint of step 6: on 1 process {one[-1]:.7f}, on 2 ranks {two[-1]:.7f}")
    assert len(one) == len(two) == 7 and one[:6] == first and two[:6] == first
    assert max_rel(one, two) <= 1e-5, (one, two)

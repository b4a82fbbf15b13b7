"""A sharded checkpoint written by 2 ranks (FSDP2) resumes on 1 process and on 2 ranks to the same next loss; and a run
that switched strategy resumes from its latest checkpoint, whatever its kind."""
import os, shutil, time


def test_two_rank_checkpoint_resumes_on_one_and_two(tmp_path, h):
    text = h.make_text(tmp_path)
    h.torchrun(2, h.train_args(text, tmp_path / "two", "--strategy", "fsdp", steps=6, ckpt_every=6))
    ck = tmp_path / "two" / "checkpoint"
    assert (ck / ".metadata").is_file() and (ck / "__0_0.distcp").is_file() and (ck / "__1_0.distcp").is_file(), \
        sorted(p.name for p in ck.iterdir())
    shutil.copytree(tmp_path / "two", tmp_path / "one")
    first = h.losses(tmp_path / "two")
    h.train_in_process(h.train_args(text, tmp_path / "one", "--strategy", "single", "--resume", steps=7, ckpt_every=7))
    h.torchrun(2, h.train_args(text, tmp_path / "two", "--strategy", "fsdp", "--resume", steps=7, ckpt_every=7))
    one, two = h.losses(tmp_path / "one"), h.losses(tmp_path / "two")
    print(f"step 7 loss after resuming the 2-rank checkpoint of step 6: on 1 process {one[-1]:.7f}, on 2 ranks {two[-1]:.7f}")
    assert len(one) == len(two) == 7 and one[:6] == first and two[:6] == first
    assert h.max_rel(one, two) <= 1e-5, (one, two)

    # "one" now holds an older sharded checkpoint (step 6) and a newer one-file one (step 7): resuming loads step 7
    sharded, single = tmp_path / "one" / "checkpoint", tmp_path / "one" / "checkpoint.pt"
    assert sharded.is_dir() and single.is_file()
    os.utime(sharded, (time.time() + 60, time.time() + 60))      # even when the older one looks newer on disk
    h.train_in_process(h.train_args(text, tmp_path / "one", "--strategy", "single", "--resume", steps=8, ckpt_every=8))
    got = h.losses(tmp_path / "one")
    assert len(got) == 8 and got[:7] == one, (got, one)

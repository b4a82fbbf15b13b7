"""A rank killed mid-run (SIGKILL) makes torchrun exit non-zero with a message naming the rank; resuming from the last
checkpoint finishes the run with the losses and weights of an uninterrupted one."""
import os, re, signal, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import torch
from test_distributed_helpers import (BASE_ENV, ROOT, make_text, train_args, torchrun, torchrun_cmd, train_in_process,
                                      losses, final_weights, max_rel, max_abs, pids_with_env, new_marker)

STEPS = 24

def test_dead_rank_fails_the_run_and_resume_works(tmp_path):
    text, out, marker = make_text(tmp_path), tmp_path / "run", new_marker()
    train_in_process(train_args(text, tmp_path / "ref", "--strategy", "single", steps=STEPS, ckpt_every=3))  # also builds the token cache
    args = train_args(text, out, "--strategy", "fsdp", steps=STEPS, ckpt_every=3)
    proc = subprocess.Popen(torchrun_cmd(2, args), cwd=ROOT, env={**BASE_ENV, "LLAMA31_EDU_TEST_MARKER": marker},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (out / "checkpoint" / ".metadata").is_file():      # the first checkpoint is published
            assert proc.poll() is None, proc.communicate()
            assert time.time() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
        victims = pids_with_env(marker, RANK="1")
        assert len(victims) == 1, victims
        os.kill(victims[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None: proc.kill()
    print(err[-700:])
    assert proc.returncode != 0
    assert re.search(r"rank\s*:\s*1 \(local_rank: 1\)", err) and "SIGKILL" in err, err[-3000:]
    step = torch.load(out / "checkpoint" / "extra.pt", weights_only=True)["step"]
    assert 3 <= step < STEPS and step % 3 == 0, step
    torchrun(2, train_args(text, out, "--strategy", "fsdp", "--resume", steps=STEPS, ckpt_every=3))
    ref, got = losses(tmp_path / "ref"), losses(out)
    dw = max_abs(final_weights(tmp_path / "ref"), final_weights(out))
    print(f"rank 1 killed after the checkpoint of step {step}; resumed to step {STEPS}: max relative loss difference "
          f"{max_rel(ref, got):.2e} and max |weight difference| {dw:.2e} against one uninterrupted process")
    # Float32 sums in another order (2 ranks vs 1), amplified by AdamW's 1/sqrt(v) on rarely-updated embedding rows:
    # measured up to 1e-4 after 40 steps, 6e-6 after 10.
    assert max_rel(ref, got) <= 1e-5 and dw <= 2e-4, (ref, got, dw)

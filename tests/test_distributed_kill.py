"""A rank killed mid-run (SIGKILL) makes torchrun exit non-zero with a message naming the rank; resuming from the last
checkpoint finishes the run with the losses and weights of an uninterrupted one."""
import os, re, signal, subprocess, time
import torch

STEPS = 24

def test_dead_rank_fails_the_run_and_resume_works(tmp_path, h):
    text, out, marker = h.make_text(tmp_path), tmp_path / "run", h.new_marker()
    h.train_in_process(h.train_args(text, tmp_path / "ref", "--strategy", "single", steps=STEPS, ckpt_every=3))  # also builds the token cache
    args = h.train_args(text, out, "--strategy", "fsdp", steps=STEPS, ckpt_every=3)
    proc = subprocess.Popen(h.torchrun_cmd(2, args), cwd=h.ROOT, env={**h.BASE_ENV, "LLAMA31_EDU_TEST_MARKER": marker},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (out / "checkpoint" / ".metadata").is_file():      # the first checkpoint is published
            assert proc.poll() is None, proc.communicate()
            assert time.time() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
        victims = h.pids_with_env(marker, RANK="1")
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
    h.torchrun(2, h.train_args(text, out, "--strategy", "fsdp", "--resume", steps=STEPS, ckpt_every=3))
    ref, got = h.losses(tmp_path / "ref"), h.losses(out)
    dw = h.max_abs(h.final_weights(tmp_path / "ref"), h.final_weights(out))
    print(f"rank 1 killed after the checkpoint of step {step}; resumed to step {STEPS}: max relative loss difference "
          f"{h.max_rel(ref, got):.2e} and max |weight difference| {dw:.2e} against one uninterrupted process")
    # Float32 sums in another order (2 ranks vs 1), amplified by AdamW's 1/sqrt(v) on rarely-updated embedding rows:
    # measured up to 1e-4 after 40 steps, 6e-6 after 10.
    assert h.max_rel(ref, got) <= 1e-5 and dw <= 2e-4, (ref, got, dw)

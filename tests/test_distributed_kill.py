"""A rank killed mid-run (SIGKILL) makes torchrun exit non-zero naming the rank; the run resumes from the last checkpoint."""
import os, re, signal, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import torch
from test_distributed_helpers import (BASE_ENV, ROOT, torchrun, torchrun_cmd, run_in_process, read_run, max_rel,
                                      pids_with_env, new_marker)

def test_dead_rank_fails_the_run_and_resume_works(tmp_path):
    ck, marker = tmp_path / "ckpt", new_marker()
    data = ["--global-batch", "4", "--seed", "7"]
    common = [*data, "--ckpt", str(ck), "--save-every", "3"]
    proc = subprocess.Popen(torchrun_cmd(2, "--strategy", "fsdp", "--steps", "100000", *common), cwd=ROOT,
                            env={**BASE_ENV, "LLAMA31_EDU_TEST_MARKER": marker},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (ck / ".metadata").is_file():          # the first checkpoint is published
            assert proc.poll() is None, proc.communicate()
            assert time.time() < deadline, "no checkpoint within 120 s"
            time.sleep(0.2)
        victims = pids_with_env(marker, RANK="1")
        assert len(victims) == 1, victims
        os.kill(victims[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None: proc.kill()
    print(err[-1500:])
    assert proc.returncode != 0
    assert re.search(r"rank\s*:\s*1 \(local_rank: 1\)", err), err[-3000:]
    assert "SIGKILL" in err or "Signal 9" in err, err[-3000:]
    # The last complete checkpoint loads; resume to 3 steps past it and compare with one uninterrupted process.
    step = torch.load(ck / "extra.pt", weights_only=True)["step"]
    assert step % 3 == 0 and step >= 3, step
    until = str(step + 3)
    torchrun(2, "--strategy", "fsdp", "--steps", until, *common, "--resume", "--out", str(tmp_path / "resumed"))
    run_in_process("--strategy", "single", "--steps", until, *data, "--out", str(tmp_path / "ref"))
    resumed, _ = read_run(tmp_path / "resumed")
    ref, _ = read_run(tmp_path / "ref")
    print(f"killed after the checkpoint of step {step}; resumed losses {resumed}, reference {ref[-3:]}")
    assert max_rel(ref[-3:], resumed) <= 1e-5, (ref, resumed)

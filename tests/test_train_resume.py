"""Kill-and-resume reliability of `llama31-edu train` (chapter 8), on the `tiny` preset, CPU, fp32:
SIGKILL at a random step, then `--resume`: the final weights are bitwise equal to an uninterrupted run; and a SIGKILL
in the middle of a checkpoint write leaves the previous checkpoint, from which the run resumes just as exactly."""
import random, signal, subprocess, sys, textwrap
import pytest, torch

STEPS = 8


def tiny_cmd(corpus, out, *extra):
    return [sys.executable, "-m", "llama31_edu.cli", "train", "--text", str(corpus / "text.txt"),
            "--tokenizer", str(corpus / "bytes.model"), "--config", "tiny", "--seq-len", "32", "--batch-size", "4",
            "--max-steps", str(STEPS), "--warmup-steps", "3", "--lr", "1e-2", "--eval-every", "4", "--ckpt-every", "2",
            "--log-every", "1", "--seed", "7", "--out", str(out), "--cache-dir", str(corpus / "cache"),
            "--no-progress", "--samples", "0", "--threads", "1", *extra]


def checkpoint_weights(out):
    return torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]


@pytest.fixture(scope="module")
def reference(corpus, h):
    out = corpus / "reference"
    r = subprocess.run(tiny_cmd(corpus, out), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-2000:]
    return checkpoint_weights(out)


def test_sigkill_at_random_step_then_resume_is_bitwise_equal(corpus, reference, tmp_path, h):
    out = tmp_path / "run"
    # Step k's log line comes before step k's checkpoint is written, so with --ckpt-every 2 the first kill point that
    # is sure to find a checkpoint is "step 3:" (a kill at "step 2:" may come before any save).
    k = random.Random().randint(3, STEPS - 1)
    print(f"killing at step {k}")
    p = subprocess.Popen(tiny_cmd(corpus, out), cwd=h.ROOT, env=h.BASE_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log, _ = h.signal_when(p, f"step {k}:", signal.SIGKILL)
    assert p.returncode == -signal.SIGKILL, f"run ended by itself (rc {p.returncode}) before step {k}:\n{log[-2000:]}"
    step = h.extra(out)["step"]
    assert step <= k, step
    r = subprocess.run(tiny_cmd(corpus, out, "--resume"), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resumed {out} at step {step}" in r.stdout
    h.assert_bitwise_equal(checkpoint_weights(out), reference)


KILL_DURING_SAVE = textwrap.dedent("""
    import io, os, signal, sys, torch
    _save, calls = torch.save, [0]
    def save(obj, f, *a, **k):
        if isinstance(obj, dict) and "optimizer" in obj:
            calls[0] += 1
            if calls[0] == int(os.environ["KILL_AT_SAVE"]):
                buf = io.BytesIO(); _save(obj, buf, *a, **k)
                f.write(buf.getvalue()[: len(buf.getvalue()) // 2]); f.flush(); os.fsync(f.fileno())
                print("killed mid-write", flush=True); os.kill(os.getpid(), signal.SIGKILL)
        return _save(obj, f, *a, **k)
    torch.save = save
    from llama31_edu.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_kill_during_checkpoint_write_keeps_previous_checkpoint(corpus, reference, tmp_path, h):
    "`torch.save` writes half of the 3rd checkpoint (step 6) into the temporary file, then the process SIGKILLs itself."
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", KILL_DURING_SAVE] + tiny_cmd(corpus, out)[3:]
    p = subprocess.run(cmd, cwd=h.ROOT, env=dict(h.BASE_ENV, KILL_AT_SAVE="3"), capture_output=True, text=True, timeout=150)
    assert p.returncode == -signal.SIGKILL and "killed mid-write" in p.stdout, (p.returncode, p.stdout[-1000:], p.stderr[-1000:])
    tmp = [f for f in out.iterdir() if f.name.startswith(".checkpoint.pt.") and f.name.endswith(".tmp")]
    assert len(tmp) == 1, sorted(f.name for f in out.iterdir())          # the half-written temporary file is there
    with pytest.raises(Exception): torch.load(tmp[0], weights_only=True)    # it really is broken ...
    assert h.extra(out)["step"] == 4                                        # ... and the previous checkpoint is intact
    r = subprocess.run(tiny_cmd(corpus, out, "--resume"), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not tmp[0].exists()                                              # resuming clears the debris
    h.assert_bitwise_equal(checkpoint_weights(out), reference)

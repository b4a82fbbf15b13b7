"""Kill in the middle of a checkpoint write (chapter 8): the previous checkpoint still loads, and resuming from
it reaches bitwise the weights of an uninterrupted run. `torch.save` is wrapped so that the 3rd checkpoint
(step 6) writes half its bytes to the temporary file and then the process SIGKILLs itself."""
import signal, subprocess, sys, textwrap
import pytest, torch
from test_train_resume import ROOT, ENV, corpus, reference, train_cmd, final_weights, assert_bitwise_equal

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


def test_kill_during_checkpoint_write_keeps_previous_checkpoint(corpus, reference, tmp_path):
    out = tmp_path / "run"
    cmd = train_cmd(corpus, out)
    cmd = [sys.executable, "-c", KILL_DURING_SAVE] + cmd[3:]        # same flags, torch.save dies half-way through save #3
    p = subprocess.run(cmd, cwd=ROOT, env=dict(ENV, KILL_AT_SAVE="3"), capture_output=True, text=True, timeout=120)
    assert p.returncode == -signal.SIGKILL and "killed mid-write" in p.stdout, (p.returncode, p.stdout[-1000:], p.stderr[-1000:])
    tmp = out / "checkpoint.pt.tmp"
    assert tmp.exists(), "the half-written temporary file should be there"
    with pytest.raises(Exception): torch.load(tmp, weights_only=True)    # it really is broken ...
    ck = torch.load(out / "checkpoint.pt", weights_only=True)            # ... and the previous checkpoint is intact
    assert ck["extra"]["step"] == 4, ck["extra"]["step"]
    r = subprocess.run(train_cmd(corpus, out, "--resume"), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not tmp.exists()
    assert_bitwise_equal(final_weights(out), reference)

"""Signals during `llama31-edu train` (chapter 8, and chapter 11 under torchrun): SIGINT and SIGTERM finish the step,
save a checkpoint, print the command that resumes, and exit with 128 + the signal; resuming then gives bit for bit
the weights of an uninterrupted run, with one process and with 2 ranks. A second signal stops at once and keeps the
last good checkpoint."""
import re, shlex, signal, subprocess, sys
import pytest, torch

STEPS = 12


def args(h, text, out, *extra, **kw):
    return h.train_args(text, out, *extra, steps=STEPS, ckpt_every=100, **kw) + ["--log-every", "1"]


@pytest.fixture(scope="module")
def text(tmp_path_factory, h):
    return h.make_text(tmp_path_factory.mktemp("text"))


@pytest.fixture(scope="module")
def one_process_reference(text, h):
    out = text.parent / "ref-1"
    r = subprocess.run(h.train_cmd(args(h, text, out)), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-2000:]
    return h.final_weights(out)


def resume_args(stderr: str) -> list[str]:
    "The options of the resume command the stopped run printed."
    m = re.search(r"Resume with: (.*)", stderr)
    assert m, stderr[-2000:]
    cmd = shlex.split(m[1])
    assert "--resume" in cmd, cmd
    return cmd[cmd.index("train") + 1:]


# Ctrl-C and SIGTERM take the same path; `make test` runs one of each (Ctrl-C here, SIGTERM under torchrun), and
# `make test-slow` the other two, to keep `make test` near 10 minutes on 2 cores.
@pytest.mark.parametrize("signum", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_signal_saves_and_resumes_bitwise_one_process(signum, text, one_process_reference, tmp_path, h):
    out = tmp_path / "run"
    p = subprocess.Popen(h.train_cmd(args(h, text, out)), cwd=h.ROOT, env=h.BASE_ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    _, err = h.signal_when(p, "step 3:", signum)
    assert p.returncode == 128 + signum, (p.returncode, err[-2000:])
    name = signal.Signals(signum).name
    step = h.extra(out)["step"]
    assert f"stopped by {name} after step {step}" in err and 3 <= step < STEPS, err[-2000:]
    r = subprocess.run(h.train_cmd(resume_args(err)), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-2000:]
    h.assert_bitwise_equal(h.final_weights(out), one_process_reference)


SLOW_THIRD_SAVE = """
import sys, time, torch
_save, calls = torch.save, [0]
def save(obj, f, *a, **k):
    if isinstance(obj, dict) and "optimizer" in obj:
        calls[0] += 1
        if calls[0] == 3: print("saving", flush=True); time.sleep(30)      # the save after the first signal
    return _save(obj, f, *a, **k)
torch.save = save
from llama31_edu.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_second_signal_stops_at_once_and_keeps_the_last_checkpoint(text, tmp_path, h):
    "Ctrl-C at step 5, and again while the checkpoint it asked for is being written (made slow here)."
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", SLOW_THIRD_SAVE, "train", *h.train_args(text, out, steps=200, ckpt_every=2), "--log-every", "1"]
    p = subprocess.Popen(cmd, cwd=h.ROOT, env=h.BASE_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in p.stdout:
        seen.append(line)
        if line.startswith("step 5:"): p.send_signal(signal.SIGINT)
        if line.startswith("saving"): p.send_signal(signal.SIGINT); break
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "stopped at once by a second signal" in err, (p.returncode, "".join(seen)[-1000:], err[-2000:])
    assert not [f.name for f in out.iterdir() if f.name.endswith(".tmp")]      # the half-written file is gone
    assert h.extra(out)["step"] == 4                                            # the last good checkpoint loads


@pytest.fixture(scope="module")
def ddp_reference(text, h):
    out = text.parent / "ref-ddp"
    h.torchrun(2, args(h, text, out, "--strategy", "ddp"))
    return h.final_weights(out)


@pytest.mark.parametrize("signum", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
def test_signal_under_torchrun_all_ranks_save_and_resume_bitwise(signum, text, ddp_reference, tmp_path, h):
    "SIGTERM goes to torchrun (which passes it on to each rank); SIGINT to both ranks at once, as a terminal's Ctrl-C does."
    out, marker = tmp_path / "run", h.new_marker()
    p = subprocess.Popen(h.torchrun_cmd(2, args(h, text, out, "--strategy", "ddp")), cwd=h.ROOT,
                         env={**h.BASE_ENV, "LLAMA31_EDU_TEST_MARKER": marker}, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    ranks = lambda: h.pids_with_env(marker, RANK="0") + h.pids_with_env(marker, RANK="1")
    _, err = h.signal_when(p, "step 3:", signum, pids=None if signum == signal.SIGTERM else ranks)
    assert p.returncode != 0, err[-2000:]
    name = signal.Signals(signum).name
    step = h.extra(out)["step"]
    assert f"stopped by {name} after step {step}" in err and 3 <= step < STEPS, err[-3000:]
    assert (out / "checkpoint" / ".metadata").is_file()                        # both ranks wrote their shards
    h.torchrun(2, resume_args(err))
    h.assert_bitwise_equal(h.final_weights(out), ddp_reference)


def test_demo_help_starts_nothing(tmp_path):
    "`llama31-edu demo --help` prints the options and exits 0; no stage runs, no run folder appears."
    r = subprocess.run([sys.executable, "-m", "llama31_edu.cli", "demo", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-1000:]
    assert "usage: llama31-edu demo" in r.stdout and "=== stage" not in r.stdout, r.stdout[:500]
    assert not (tmp_path / "runs").exists(), "demo --help created a run folder"

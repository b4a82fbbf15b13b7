"""Kill-and-resume reliability of `llama31-edu train` (chapter 8), on the `tiny` preset, CPU, fp32:
SIGKILL at a random step, then `--resume`: the final weights are bitwise equal to an uninterrupted run.
(The helpers here are shared with test_train_kill_save.py.)"""
import os, random, signal, subprocess, sys, textwrap
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parents[1]
STEPS = 8
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0", MPLBACKEND="Agg")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from llama31_edu.tokenizer import DEMO_CORPUS, train_bpe, save_tiktoken_bpe
    d = tmp_path_factory.mktemp("corpus")
    text = Path(DEMO_CORPUS).read_text(encoding="utf-8")[:40_000]
    (d / "text.txt").write_text(text, encoding="utf-8")
    save_tiktoken_bpe(train_bpe(text, 256), d / "bytes.model")   # 256 byte ranks + 256 specials = tiny's 512
    return d


def train_cmd(corpus, out, *extra):
    return [sys.executable, "-m", "llama31_edu.cli", "train", "--text", str(corpus / "text.txt"),
            "--tokenizer", str(corpus / "bytes.model"), "--config", "tiny", "--seq-len", "32", "--batch-size", "4",
            "--max-steps", str(STEPS), "--warmup-steps", "3", "--lr", "1e-2", "--eval-every", "4", "--ckpt-every", "2",
            "--log-every", "1", "--seed", "7", "--out", str(out), "--cache-dir", str(corpus / "cache"),
            "--no-progress", "--samples", "0", "--threads", "1", *extra]


def final_weights(out):
    return torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]


def assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    bad = [k for k in a if not torch.equal(a[k], b[k])]
    assert not bad, f"{len(bad)} tensors differ after resume, e.g. {bad[0]}: max |diff| {(a[bad[0]] - b[bad[0]]).abs().max():.3g}"


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    r = subprocess.run(train_cmd(corpus, out), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return final_weights(out)


def run_until(cmd, line_prefix, timeout=120):
    "Start `cmd`, SIGKILL it as soon as it prints a line starting with `line_prefix`; return its output."
    p = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in p.stdout:
        seen.append(line)
        if line.startswith(line_prefix):
            p.send_signal(signal.SIGKILL); break
    p.wait(timeout=timeout)
    assert p.returncode == -signal.SIGKILL, f"run ended by itself (rc {p.returncode}) before {line_prefix!r}:\n{''.join(seen)[-2000:]}"
    return "".join(seen)


def test_sigkill_at_random_step_then_resume_is_bitwise_equal(corpus, reference, tmp_path):
    out = tmp_path / "run"
    # Step k's log line comes before step k's checkpoint is written, so with --ckpt-every 2 the first kill point that
    # is sure to find a checkpoint is "step 3:" (a kill at "step 2:" may come before any save; that case is
    # test_train_errors' "--resume with no checkpoint" error).
    k = random.Random().randint(3, STEPS - 1)
    print(f"killing at step {k}")
    run_until(train_cmd(corpus, out), f"step {k}:")
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ck["extra"]["step"] <= k, ck["extra"]["step"]
    r = subprocess.run(train_cmd(corpus, out, "--resume"), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resumed {out} at step {ck['extra']['step']}" in r.stdout
    assert_bitwise_equal(final_weights(out), reference)



"""`llama31-edu dpo` (chapter 16) on the training engine: SIGKILL at a random step, then `--resume`, ends with weights
bitwise equal to an uninterrupted run (the pair order and the stored reference log-probs are part of the run); and two
DDP ranks under torchrun take the same steps as one process."""
import json, random, signal, subprocess, sys
import pytest, torch

STEPS = 6


@pytest.fixture(scope="module")
def setup(tmp_path_factory, h):
    "A tiny random model in Meta's format with the demo tokenizer (the --init folder), and 40 + 8 pairs of data/dpo."
    from llama31_edu.dpo import DPO_DATA
    return h.tiny_stage_folder(tmp_path_factory.mktemp("dpo"), DPO_DATA, 40, 8)


def dpo_args(d, out, *extra):
    return ["--init", str(d / "init"), "--pairs", str(d / "train.jsonl"), "--max-steps", str(STEPS), "--batch-size", "4",
            "--warmup-steps", "2", "--lr", "1e-3", "--eval-every", "1000", "--ckpt-every", "2", "--log-every", "1",
            "--seed", "5", "--no-progress", "--threads", "1", "--out", str(out), *extra]


def dpo_cmd(d, out, *extra): return [sys.executable, "-m", "llama31_edu.cli", "dpo", *dpo_args(d, out, *extra)]


def test_dpo_sigkill_then_resume_is_bitwise_equal(setup, tmp_path, h):
    ref = tmp_path / "reference"
    r = subprocess.run(dpo_cmd(setup, ref), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((ref / "metrics.json").read_text())
    assert m["steps"] == STEPS and m["preferences"]["step"] == list(range(1, STEPS + 1)), m.get("preferences")
    assert (ref / "model" / "params.json").exists() and (ref / "reference_logps.pt").exists()
    out = tmp_path / "run"
    k = random.Random().randint(3, STEPS - 1)
    p = subprocess.Popen(dpo_cmd(setup, out), cwd=h.ROOT, env=h.BASE_ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    log, _ = h.signal_when(p, f"step {k}:", signal.SIGKILL)
    assert p.returncode == -signal.SIGKILL, f"run ended by itself (rc {p.returncode}) before step {k}:\n{log[-2000:]}"
    step = h.extra(out)["step"]
    r = subprocess.run(dpo_cmd(setup, out, "--resume"), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resumed {out} at step {step}" in r.stdout
    load = lambda o: torch.load(o / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]
    h.assert_bitwise_equal(load(out), load(ref))
    resumed = json.loads((out / "metrics.json").read_text())["preferences"]
    assert resumed["step"] == list(range(1, STEPS + 1))                  # the log forgot the steps after the checkpoint
    assert resumed["margin"] == m["preferences"]["margin"]


@pytest.mark.slow      # ~20 s of torchrun start-up; `make test-slow` runs it (chapter 11 tests the engine under torchrun)
def test_dpo_under_torchrun_ddp_matches_one_process(setup, tmp_path, h):
    "2 gloo ranks x 2 pairs (DDP) take the same global batches as one process x 4: same losses, margins and weights."
    one, two = tmp_path / "one", tmp_path / "ddp"
    args = lambda out, bs: dpo_args(setup, out, "--max-steps", "3", "--ckpt-every", "3") + ["--batch-size", bs]
    r = subprocess.run([sys.executable, "-m", "llama31_edu.cli", "dpo", *args(one, "4")], cwd=h.ROOT, env=h.BASE_ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
                        "llama31_edu.cli", "dpo", *args(two, "2"), "--strategy", "ddp"], cwd=h.ROOT, env=h.BASE_ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert h.max_rel(h.losses(one), h.losses(two)) < 1e-4, (h.losses(one), h.losses(two))
    pa, pb = (json.loads((o / "metrics.json").read_text())["preferences"] for o in (one, two))
    assert max(abs(a - b) for a, b in zip(pa["logp_chosen"], pb["logp_chosen"])) < 1e-3, (pa, pb)
    assert h.max_abs(h.final_weights(one), h.final_weights(two)) < 1e-5

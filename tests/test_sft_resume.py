"""`llama31-edu sft` (chapter 14) on the training engine: SIGKILL at a random step, then `--resume`, ends with weights
bitwise equal to an uninterrupted run (the dialog batch source's position is part of the checkpoint)."""
import json, random, signal, subprocess, sys
import pytest, torch

STEPS = 6


@pytest.fixture(scope="module")
def setup(tmp_path_factory, h):
    "A tiny random model in Meta's format with the demo tokenizer (the --init folder), and 48 + 8 dialogs."
    from llama31_edu.sft import SFT_DATA
    return h.tiny_stage_folder(tmp_path_factory.mktemp("sft"), SFT_DATA, 48, 8)


def sft_cmd(d, out, *extra):
    return [sys.executable, "-m", "llama31_edu.cli", "sft", "--init", str(d / "init"), "--data", str(d / "train.jsonl"),
            "--max-steps", str(STEPS), "--batch-size", "4", "--warmup-steps", "2", "--eval-every", "1000",
            "--ckpt-every", "2", "--log-every", "1", "--seed", "5", "--samples", "0", "--no-progress", "--threads", "1",
            "--out", str(out), *extra]


def test_sft_sigkill_then_resume_is_bitwise_equal(setup, tmp_path, h):
    ref = tmp_path / "reference"
    r = subprocess.run(sft_cmd(setup, ref), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((ref / "metrics.json").read_text())["steps"] == STEPS and (ref / "loss.png").exists()
    assert (ref / "model" / "params.json").exists() and (ref / "model" / "tokenizer.model").exists()
    out = tmp_path / "run"
    k = random.Random().randint(3, STEPS - 1)      # step k's log line comes before its checkpoint (every 2 steps)
    p = subprocess.Popen(sft_cmd(setup, out), cwd=h.ROOT, env=h.BASE_ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    log, _ = h.signal_when(p, f"step {k}:", signal.SIGKILL)
    assert p.returncode == -signal.SIGKILL, f"run ended by itself (rc {p.returncode}) before step {k}:\n{log[-2000:]}"
    step = h.extra(out)["step"]
    r = subprocess.run(sft_cmd(setup, out, "--resume"), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resumed {out} at step {step}" in r.stdout
    load = lambda o: torch.load(o / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]
    h.assert_bitwise_equal(load(out), load(ref))


def test_sft_bad_input_is_one_line(setup, tmp_path, h):
    "A broken dialog file and a missing --init: exit 2, one line naming the file and line / the option, no traceback."
    bad = tmp_path / "bad.jsonl"
    lines = (setup / "train.jsonl").read_text().splitlines(True)
    bad.write_text(lines[0] + lines[1].replace('"role": "user"', '"role": "narrator"') + lines[2])
    (tmp_path / "val.jsonl").write_text(lines[0])
    r = subprocess.run(sft_cmd(setup, tmp_path / "run", "--data", str(bad)), cwd=h.ROOT, env=h.BASE_ENV,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert f"{bad}:2: message 1 has an unknown role 'narrator'" in r.stderr.strip().splitlines()[-1], r.stderr
    assert not (tmp_path / "run").exists()                   # nothing was created before the data was checked


def test_sft_under_torchrun_ddp_matches_one_process(setup, tmp_path, h):
    "2 gloo ranks x 2 dialogs (DDP) take the same global batches as one process x 4: same losses, same weights."
    one, two = tmp_path / "one", tmp_path / "ddp"
    args = lambda out, bs: sft_cmd(setup, out, "--max-steps", "3", "--ckpt-every", "3")[4:] + ["--batch-size", bs]
    r = subprocess.run([sys.executable, "-m", "llama31_edu.cli", "sft", *args(one, "4")], cwd=h.ROOT, env=h.BASE_ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
                        "llama31_edu.cli", "sft", *args(two, "2"), "--strategy", "ddp"], cwd=h.ROOT, env=h.BASE_ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert h.max_rel(h.losses(one), h.losses(two)) < 1e-4, (h.losses(one), h.losses(two))
    assert h.max_abs(h.final_weights(one), h.final_weights(two)) < 1e-5


@pytest.mark.slow          # three more runs of the CLI (~20 s of CPU): `make test-slow`
def test_lora_sigkill_then_resume_is_bitwise_equal(setup, tmp_path, h):
    """`llama31-edu sft --lora-rank 4` (chapter 15): the checkpoint holds only the adapters; SIGKILL and `--resume`
    (the base is read again from --init) end with adapters bitwise equal to an uninterrupted run's, in PEFT's format."""
    from safetensors.torch import load_file
    lora = ("--lora-rank", "4", "--lora-targets", "wq,wk,w2")
    ref = tmp_path / "reference"
    r = subprocess.run(sft_cmd(setup, ref, *lora), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert all(k.endswith((".lora_A", ".lora_B")) for k in torch.load(ref / "checkpoint.pt", weights_only=True)["model"])
    out = tmp_path / "run"
    k = random.Random().randint(3, STEPS - 1)
    p = subprocess.Popen(sft_cmd(setup, out, *lora), cwd=h.ROOT, env=h.BASE_ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    log, _ = h.signal_when(p, f"step {k}:", signal.SIGKILL)
    assert p.returncode == -signal.SIGKILL, f"run ended by itself (rc {p.returncode}) before step {k}:\n{log[-2000:]}"
    step = h.extra(out)["step"]
    r = subprocess.run(sft_cmd(setup, out, *lora, "--resume"), cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resumed {out} at step {step}" in r.stdout
    h.assert_bitwise_equal(load_file(out / "model" / "adapter_model.safetensors"), load_file(ref / "model" / "adapter_model.safetensors"))
    assert json.loads((out / "model" / "adapter_config.json").read_text())["target_modules"] == ["q_proj", "k_proj", "down_proj"]


@pytest.mark.slow          # two torchrun runs and one single-process run
@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_lora_under_torchrun_matches_one_process(setup, tmp_path, h, strategy):
    "LoRA under 2 gloo ranks x 2 dialogs gives the adapters of one process x 4 (frozen base, adapters only trained)."
    from safetensors.torch import load_file
    args = lambda out, bs: sft_cmd(setup, out, "--max-steps", "3", "--ckpt-every", "3", "--lora-rank", "4")[4:] + ["--batch-size", bs]
    r = subprocess.run([sys.executable, "-m", "llama31_edu.cli", "sft", *args(tmp_path / "one", "4")], cwd=h.ROOT,
                       env=h.BASE_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
                        "llama31_edu.cli", "sft", *args(tmp_path / "two", "2"), "--strategy", strategy], cwd=h.ROOT,
                       env=h.BASE_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    one, two = (load_file(tmp_path / d / "model" / "adapter_model.safetensors") for d in ("one", "two"))
    assert len(one) == 14, sorted(one)                       # A and B on the 7 matrices of the one block
    assert h.max_abs(one, two) < 1e-5
    assert any(v.abs().max() > 0 for k, v in one.items() if k.endswith("lora_B.weight"))   # the adapters did train

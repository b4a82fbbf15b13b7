"""Clear errors through the real command: an unknown strategy, fsdp without torchrun, and a global batch 2 ranks do not
divide (which must fail before any checkpoint or run folder exists)."""
import subprocess


def test_cli_errors(tmp_path, h):
    text = h.make_text(tmp_path)
    r = subprocess.run(h.train_cmd(h.train_args(text, tmp_path / "a", "--strategy", "zero3")),
                       cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "invalid choice: 'zero3'" in r.stderr, r.stderr[-2000:]
    r = subprocess.run(h.train_cmd(h.train_args(text, tmp_path / "b", "--strategy", "fsdp")),
                       cwd=h.ROOT, env=h.BASE_ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "torchrun --nproc_per_node N -m llama31_edu.cli train" in r.stderr, r.stderr[-2000:]
    r = h.torchrun(2, h.train_args(text, tmp_path / "c", "--strategy", "ddp", global_batch=3), check=False)
    assert r.returncode != 0, r.stdout[-2000:]
    assert "global batch 3 is not divisible by world size 2" in r.stderr, r.stderr[-3000:]
    assert not (tmp_path / "c").exists()

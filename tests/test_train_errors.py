"""Clear errors from `llama31-edu train` (chapter 8), and nothing lost: each bad input names what is wrong and
what to do; a NaN loss stops the run at its step and keeps the last good checkpoint."""
import math, os
from pathlib import Path
import pytest, torch

from llama31_edu import train as T
from llama31_edu.model import Transformer

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from llama31_edu.tokenizer import DEMO_CORPUS, train_bpe, save_tiktoken_bpe
    d = tmp_path_factory.mktemp("corpus")
    text = Path(DEMO_CORPUS).read_text(encoding="utf-8")[:20_000]
    (d / "text.txt").write_text(text, encoding="utf-8")
    save_tiktoken_bpe(train_bpe(text, 256), d / "bytes.model")
    return d


def cli(corpus, out, *extra, text=None):
    argv = ["--text", str(text or corpus / "text.txt"), "--tokenizer", str(corpus / "bytes.model"), "--config", "tiny",
            "--seq-len", "32", "--batch-size", "4", "--max-steps", "4", "--warmup-steps", "2", "--eval-every", "2",
            "--ckpt-every", "2", "--out", str(out), "--cache-dir", str(corpus / "cache"), "--no-progress",
            "--samples", "0", *extra]
    return T.cli_main(argv)


def expect_error(capsys, rc, *fragments):
    err = capsys.readouterr().err
    assert rc == 2, f"expected exit status 2, got {rc}; stderr: {err}"
    for f in fragments: assert f in err, f"{f!r} not in error message: {err}"
    return err


def test_empty_file(corpus, tmp_path, capsys):
    (tmp_path / "empty.txt").write_text(" \n\n")
    expect_error(capsys, cli(corpus, tmp_path / "run", text=tmp_path / "empty.txt"), "empty.txt", "empty")


def test_text_shorter_than_one_window(corpus, tmp_path, capsys):
    (tmp_path / "short.txt").write_text("to be\n" * 4)           # 18 chars for training: 20 byte-level tokens < 33
    expect_error(capsys, cli(corpus, tmp_path / "run", text=tmp_path / "short.txt"), "short.txt",
                 "shorter than one window of seq_len+1 = 33 tokens", "--seq-len")


def test_non_utf8_file_says_where(corpus, tmp_path, capsys):
    (tmp_path / "latin1.txt").write_bytes(("To be or not to be\n" * 5).encode() + "café\n".encode("latin-1"))
    expect_error(capsys, cli(corpus, tmp_path / "run", text=tmp_path / "latin1.txt"), "latin1.txt", "not valid UTF-8",
                 "byte 0xe9 at offset 98 (line 6, column 4)")


def test_tokenizer_too_big_for_model(corpus, tmp_path, capsys):
    from llama31_edu.tokenizer import DEMO_TOKENIZER
    rc = T.cli_main(["--text", str(corpus / "text.txt"), "--tokenizer", str(DEMO_TOKENIZER), "--config", "tiny",
                     "--out", str(tmp_path / "run"), "--cache-dir", str(corpus / "cache"), "--samples", "0"])
    expect_error(capsys, rc, "demo_tokenizer.model", "4,352 tokens", "vocab_size is 512")


def test_resume_with_different_config_and_out_dir_with_another_run(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(corpus, out) == 0
    capsys.readouterr()
    expect_error(capsys, cli(corpus, out), "already holds a run", "--resume")
    expect_error(capsys, cli(corpus, out, "--resume", "--lr", "1e-4"), "different settings", "train.lr: 0.003 -> 0.0001")
    expect_error(capsys, cli(corpus, out, "--resume", "--config", '{"dim": 32, "n_layers": 1, "n_heads": 2, "vocab_size": 512, "max_seq_len": 64}'),
                 "different settings", "model.dim: 64 -> 32")
    assert torch.load(out / "checkpoint.pt", weights_only=True)["extra"]["step"] == 4   # the run is untouched
    expect_error(capsys, cli(corpus, tmp_path / "fresh", "--resume"), "no checkpoint")


def test_nan_loss_stops_at_its_step_and_keeps_last_good_checkpoint(corpus, tmp_path, capsys, monkeypatch):
    forward, calls = Transformer.forward, [0]
    def poisoned(self, tokens, input_pos=None):
        logits = forward(self, tokens, input_pos)
        if self.training:
            calls[0] += 1
            if calls[0] == 3: logits = logits * float("nan")         # the third training step goes bad
        return logits
    monkeypatch.setattr(Transformer, "forward", poisoned)
    out = tmp_path / "run"
    rc = cli(corpus, out, "--max-steps", "6")
    err = capsys.readouterr().err
    assert rc == 3, err
    assert "loss is nan at step 3" in err and "last good checkpoint" in err and "(step 2)" in err, err
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ck["extra"]["step"] == 2
    assert all(torch.isfinite(v).all() for v in ck["model"].values())

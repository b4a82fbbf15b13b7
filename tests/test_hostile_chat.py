"""`llama31-edu chat` (chapter 10) against hostile input: bad options exit with status 2 and one line naming the
option; Ctrl-C (a real SIGINT) during a reply stops the reply and returns to the prompt; no traceback ever."""
import os, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch

from llama31_edu.checkpoints import save_meta_checkpoint
from llama31_edu.model import ModelArgs, Transformer
from llama31_edu.tokenizer import DEMO_VOCAB_RANKS, NUM_RESERVED_SPECIAL_TOKENS

CLI = [sys.executable, "-m", "llama31_edu.cli", "chat"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """A model with the demo tokenizer's vocabulary and a long context whose greedy reply never ends: its output layer
    is zero, so every logit ties and argmax picks token 0 (not a stop token) thousands of times."""
    torch.manual_seed(0)
    args = ModelArgs(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=DEMO_VOCAB_RANKS + NUM_RESERVED_SPECIAL_TOKENS,
                     multiple_of=32, max_seq_len=8192, max_batch_size=1)
    model = Transformer(args)
    torch.nn.init.zeros_(model.output.weight)
    d = tmp_path_factory.mktemp("ckpt") / "model"
    save_meta_checkpoint(model, d)
    return d


@pytest.mark.parametrize("option, value", [("--max-tool-steps", "-1"), ("--temperature", "nan")])
def test_bad_option_is_refused(ckpt, option, value):
    p = subprocess.run(CLI + ["--ckpt", str(ckpt), "--tools", option, value], input="", capture_output=True, text=True,
                       timeout=120, env=ENV)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr and p.stdout == ""
    last = p.stderr.strip().splitlines()[-1]
    assert option in last and value in last, last


def _ctrl_c_as_in_a_terminal():
    """Give the chat the default SIGINT disposition a terminal gives it. A shell starts background jobs (`make test &`,
    `nohup`) with SIGINT ignored, children inherit that, and Python then installs no KeyboardInterrupt handler: the
    Ctrl-C below would be dropped and the test would fail for a reason that has nothing to do with the chat."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_reply_not_the_chat(ckpt):
    # greedy, 6,000 new tokens: the reply runs for many seconds unless interrupted
    p = subprocess.Popen(CLI + ["--ckpt", str(ckpt), "--tools", "--temperature", "0", "--max-new-tokens", "6000", "--max-seq-len", "8192",
                                "--device", "cpu"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, bufsize=0,
                         preexec_fn=_ctrl_c_as_in_a_terminal)
    try:
        p.stdin.write("Count to a million.\n"); p.stdin.flush()
        seen = ""
        while "assistant> " not in seen or len(seen.split("assistant> ")[1]) < 20:   # the reply is streaming
            ch = p.stdout.read(1)
            assert ch, f"chat ended early: {seen!r} {p.stderr.read()}"
            seen += ch
        p.send_signal(signal.SIGINT)
        p.stdin.write("/exit\n"); p.stdin.flush()
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None: p.kill()
    out = seen + out
    assert p.returncode == 0, (p.returncode, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "(interrupted)\n" in out, out[-300:]
    assert out.rstrip().endswith("you>"), out[-300:]     # back at the prompt, then /exit

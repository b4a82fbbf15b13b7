"Solutions to chapter 18's exercises (the command line)."
import argparse
from pathlib import Path


def which_chapter(command: str) -> int:
    "Exercise 1: the module named in SUBCOMMANDS, and the number of the notebook that exports it."
    from llama31_edu.cli import SUBCOMMANDS
    from llama31_edu.tokenizer import DATA_DIR
    module = SUBCOMMANDS[command][0].split(":")[0].rsplit(".", 1)[-1]
    (nb,) = (DATA_DIR.parent / "nbs").glob(f"[0-9][0-9]_{module}.ipynb")
    return int(nb.name[:2])


def count_tokens_cli(argv=None) -> int:
    "Exercise 2: `llama31-edu count-tokens --text TEXT`: print how many Llama 3 tokens TEXT is."
    from llama31_edu.tokenizer import Tokenizer
    ap = argparse.ArgumentParser(prog="llama31-edu count-tokens", description="Count the Llama 3 tokens of a text.")
    ap.add_argument("--text", required=True, help="the text to count")
    a = ap.parse_args(argv)
    print(len(Tokenizer().encode(a.text, bos=False, eos=False)))
    return 0

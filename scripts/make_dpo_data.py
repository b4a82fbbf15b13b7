"""Write the preference pairs of chapter 16 to data/dpo/ (JSON Lines, deterministic from --seed).

Each line is one pair: {"id", "split", "source", "kind", "family", "prompt_id", "chosen", "rejected"}, where "chosen" and
"rejected" are whole dialogs in the form of data/sft/ (`llama_models`' `RawMessage`) that share their system and user
messages (the prompt) and differ in the assistant's answer. "chosen" is always the reference dialog of chapter 14's
generator (scripts/make_sft_data.py). Two sources of "rejected":

  synthetic  a written mistake, one per prompt: for arithmetic a wrong calculator query (the answer follows the wrong
             result), a right query with a wrong final number, or an answer without the tool; for the policy, complying
             with a request the policy refuses or refusing one it allows; for words, a wrong word or a needless tool call
  sft_model  what data/sft_model (chapter 14's model) itself answered, greedily through chapter 10's tool loop
             (`evaluate_chat`), on training prompts it got wrong: the model's own mistakes, as in Llama 3's rounds

Prompts: synthetic train pairs from the first --synthetic dialogs of data/sft/train.jsonl, model mistakes from the next
--mistakes ones (so no prompt is in both), validation pairs (synthetic) from data/sft/val.jsonl. The test split is
never read. `--check` regenerates in memory and compares with the files (the sft_model part repeats the model's greedy
answers: fp32 on CPU, the same on the machines we tried, but it is floating-point arithmetic).

    python scripts/make_dpo_data.py [--seed 0] [--out data/dpo] [--check]
"""
from __future__ import annotations
import argparse, hashlib, json, random, re, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_sft_data import BENIGN, _fmt, render  # chapter 14's generator: its policy answers, number format, JSONL writer

from llama31_edu.chat import ToolCall, calculator_toolbox
from llama31_edu.sft import REFUSAL, SFT_DATA, load_dialogs
from llama31_edu.tokenizer import DATA_DIR, atomic_write

SYNTHETIC, MISTAKES = 2000, 600


def _tool_turns(name: str, arguments: dict, result: dict, call_id: str) -> list[dict]:
    "An assistant turn calling a tool and the tool's answer, as in data/sft/."
    return [{"role": "assistant", "content": "", "stop_reason": "end_of_message",
             "tool_calls": [{"call_id": call_id, "tool_name": name, "arguments": arguments}]},
            {"role": "tool", "content": json.dumps(result, default=str)}]


def _final(text: str) -> dict: return {"role": "assistant", "content": text, "stop_reason": "end_of_turn"}


def _near(rng: random.Random, n: int) -> int:
    "A wrong number close to `n`: off by one, ten, a hundred or a digit."
    while (m := n + rng.choice([-1, 1]) * rng.choice([1, 10, 100, rng.randint(2, 9)])) == n or m < 0 <= n: pass
    return m


def wrong_arithmetic(rng, d: dict, box) -> tuple[str, list[dict]]:
    "A rejected answer to an arithmetic dialog: wrong query, wrong final number, or no tool at all."
    prompt, call = d["messages"][:2], d["messages"][2]["tool_calls"][0]
    right = int(float(d["answer"])) if float(d["answer"]).is_integer() else None
    kind = rng.choice(["wrong_query", "wrong_answer", "no_tool"] if right is not None else ["wrong_query"])
    if kind == "wrong_query":                       # a copying mistake in an operand; the answer follows the tool
        a, op, b = call["arguments"]["query"].split(" ")
        query = f"{_near(rng, int(a))} {op} {b}"
        result = box.run(ToolCall("wolfram_alpha", {"query": query}))
        return kind, prompt + _tool_turns("wolfram_alpha", {"query": query}, result, call["call_id"]) + \
            [_final(f"The answer is {_fmt(result['result'])}.")]
    if kind == "wrong_answer":                      # the right call and result, then a different number
        return kind, d["messages"][:4] + [_final(f"The answer is {_near(rng, right)}.")]
    return kind, prompt + [_final(f"The answer is {_near(rng, right)}.")]    # guessed without the calculator


def wrong_words(rng, d: dict, box) -> tuple[str, list[dict]]:
    "A rejected answer to a words dialog: another word of the line, or the right word after a needless tool call."
    prompt, reply = d["messages"][:2], d["messages"][2]["content"]
    line = re.search(r'"(.+)"', prompt[1]["content"])[1]
    others = sorted({w for w in (re.sub(r"[,;:.!?]$", "", x) for x in line.split()) if w != d["answer"]})
    if others and rng.random() < 0.5:
        return "wrong_word", prompt + [_final(reply.replace(f'"{d["answer"]}"', f'"{rng.choice(others)}"'))]
    query = prompt[1]["content"]
    result = box.run(ToolCall("wolfram_alpha", {"query": query}))
    return "needless_tool", prompt + _tool_turns("wolfram_alpha", {"query": query}, result, f"c{rng.randrange(10**8):08d}") + \
        [_final(reply)]


def wrong_policy(rng, d: dict, box) -> tuple[str, list[dict]]:
    "Complying with a request the policy refuses, or refusing one it allows."
    prompt = d["messages"][:2]
    if d["refuse"]: return "complied", prompt + [_final(BENIGN[rng.choice(sorted(BENIGN))])]
    return "refused", prompt + [_final(REFUSAL)]


WRONG = {"arithmetic": wrong_arithmetic, "words": wrong_words, "policy": wrong_policy}


def synthetic_pairs(rng: random.Random, dialogs: list[dict], box) -> list[dict]:
    out = []
    for d in dialogs:
        kind, rejected = WRONG[d["family"]](rng, d, box)
        out.append({"source": "synthetic", "kind": kind, "family": d["family"], "prompt_id": d["id"],
                    "chosen": d["messages"], "rejected": rejected})
    return out


def model_answer(row: dict, prompt: list[dict], rng: random.Random) -> list[dict] | None:
    "The dialog that data/sft_model produced (an `evaluate_chat` row), in data/sft/'s form; None if it made none."
    if not row["reply"] or row["error"]: return None
    msgs = list(prompt)
    for c in row["calls"]:
        if c["name"] != "wolfram_alpha": return None
        msgs += _tool_turns(c["name"], c["arguments"], c["result"], f"c{rng.randrange(10**8):08d}")
    return msgs + [_final(row["reply"])]


def is_mistake(row: dict) -> str | None:
    "What the model got wrong in an `evaluate_chat` row, or None."
    if row["needs_tool"] and not row["calls"]: return "no_tool"
    if not row["needs_tool"] and row["calls"]: return "needless_tool"
    if row["reply"] != row["reference"]:
        if row["family"] == "policy": return "complied" if row["should_refuse"] else "refused" if row["reply"] == REFUSAL else "wrong_answer"
        return "wrong_answer"
    return None


def mistake_pairs(rng: random.Random, dialogs: list[dict], model_dir: Path) -> tuple[list[dict], dict]:
    "Pairs from the SFT model's own wrong answers to `dialogs` (chosen: the reference dialog)."
    import torch
    from llama31_edu.chat import load_for_inference
    from llama31_edu.sft import evaluate_chat
    torch.manual_seed(0)
    model, tok = load_for_inference(model_dir, device="cpu", max_seq_len=512)
    ev = evaluate_chat(model, tok, dialogs)
    out = []
    for d, row in zip(dialogs, ev.rows):
        if (kind := is_mistake(row)) is None: continue
        rejected = model_answer(row, d["messages"][:2], rng)
        if rejected is None or rejected == d["messages"]: continue
        out.append({"source": "sft_model", "kind": kind, "family": d["family"], "prompt_id": d["id"],
                    "chosen": d["messages"], "rejected": rejected})
    return out, ev.metrics


def make_splits(seed: int = 0, synthetic: int = SYNTHETIC, mistakes: int = MISTAKES,
                model_dir: Path = DATA_DIR / "sft_model", sft: Path = SFT_DATA) -> dict[str, list[dict]]:
    rng, box = random.Random(seed), calculator_toolbox()
    train = load_dialogs(sft / "train.jsonl")
    if synthetic + mistakes > len(train): raise ValueError(f"--synthetic + --mistakes > the {len(train)} training dialogs")
    rows = synthetic_pairs(rng, train[:synthetic], box)
    own, metrics = mistake_pairs(rng, train[synthetic:synthetic + mistakes], model_dir) if mistakes else ([], {})
    print(f"data/sft_model on {mistakes} training prompts: {len(own)} wrong answers kept as rejected "
          f"({json.dumps({k: round(v, 3) for k, v in metrics.items()})})", file=sys.stderr)
    rows += own
    rng.shuffle(rows)
    val = synthetic_pairs(rng, load_dialogs(sft / "val.jsonl"), box)
    return {split: [{"id": f"{split}-{i:05d}", "split": split, **r} for i, r in enumerate(rs)]
            for split, rs in (("train", rows), ("val", val))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="make_dpo_data.py", description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(DATA_DIR / "dpo"))
    ap.add_argument("--synthetic", type=int, default=SYNTHETIC, help="training prompts with a written mistake (default: %(default)s)")
    ap.add_argument("--mistakes", type=int, default=MISTAKES, help="training prompts answered by data/sft_model (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="regenerate in memory and compare with the files in --out")
    a = ap.parse_args(argv)
    out, bad = Path(a.out), []
    splits = make_splits(a.seed, a.synthetic, a.mistakes)
    if not a.check: out.mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        path, text = out / f"{split}.jsonl", render(rows)
        if a.check:
            if not path.exists() or path.read_text() != text: bad.append(str(path))
            continue
        atomic_write(path, text)
        kinds = {}
        for r in rows: kinds[f"{r['source']}/{r['kind']}"] = kinds.get(f"{r['source']}/{r['kind']}", 0) + 1
        print(f"{path}: {len(rows)} pairs, {len(text.encode()):,} bytes, sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}"
              f"\n  {json.dumps(dict(sorted(kinds.items())))}")
    if a.check:
        if bad: print(f"make_dpo_data.py --check: {', '.join(bad)} differ from --seed {a.seed}; rerun without --check", file=sys.stderr); return 1
        print(f"{out}: identical to --seed {a.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Chapter 16's experiment: DPO from data/sft_model against the SFT model itself, on chapter 14's held-out split.

For each variant and seed: `llama31-edu dpo --init data/sft_model --pairs data/dpo/train.jsonl` (chapter 16's
DPO_CONFIG; the seed sets the order of the pairs), then chapter 14's `evaluate_chat` on data/sft/test.jsonl (greedy,
through chapter 10's tool loop) and its `chat_metrics`. The SFT model, and the model it was fine-tuned from
(data/base_model, 3-shot, as chapter 14 scores it), are evaluated once. Finished runs and evaluations are reused,
so the command can be rerun or continued after an interruption. Writes OUT/results.json and prints the table and the verdict on the issue's goal:
some metric better than SFT by more than the spread over seeds (max - min), none worse by more than 2 points.

    python scripts/dpo_experiment.py [--out runs/dpo-experiment] [--seeds 0 1 2] [--variants llama3 no_nll no_mask]
"""
from __future__ import annotations
import argparse, json, math, sys, time
from pathlib import Path

VARIANTS = {"llama3": [],                                    # beta 0.1, formatting tokens masked, NLL 0.2 (Llama 3's)
            "no_nll": ["--nll-weight", "0"],
            "no_mask": ["--no-mask-format-tokens"],
            "lr_1e-4": ["--lr", "1e-4"]}                          # a third of DPO_CONFIG's learning rate
LOWER_IS_BETTER = {"needless_tool_calls"}
METRICS = ("tool_call_validity", "arithmetic_exact_match", "no_tool_accuracy", "refusal_precision", "refusal_recall",
           "needless_tool_calls")


def evaluate(model_dir: Path, dialogs: list[dict], path: Path, shots=()) -> dict:
    "chat_metrics of `model_dir` on `dialogs` (cached in `path` with the rows)."
    if path.exists(): return json.loads(path.read_text())["metrics"]
    from llama31_edu.chat import load_for_inference
    from llama31_edu.sft import evaluate_chat
    from llama31_edu.tokenizer import atomic_write
    model, tok = load_for_inference(model_dir, device="cpu", max_seq_len=1024)
    t = time.time()
    ev = evaluate_chat(model, tok, dialogs, shots=shots)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps({"model": str(model_dir), "seconds": time.time() - t, "metrics": ev.metrics, "rows": ev.rows}, default=str))
    return ev.metrics


def train(run: Path, seed: int, extra: list[str], threads: int, pairs: Path) -> None:
    "One DPO run into `run` (continued if it was interrupted; skipped if finished)."
    import shutil
    from llama31_edu.dpo import dpo_cli
    from llama31_edu.tokenizer import DATA_DIR
    if (run / "metrics.json").exists() and (run / "model" / "params.json").exists(): return
    masked = "--no-mask-format-tokens" not in extra
    same = [p for p in sorted(run.parent.glob("*/reference_logps.pt"))     # the frozen reference's log-probs do not depend
            if ("no_mask" not in p.parent.name) == masked]                  # on the seed: reuse them (dpo_train checks the key)
    if same and not (run / "reference_logps.pt").exists():
        run.mkdir(parents=True, exist_ok=True); shutil.copy(same[0], run / "reference_logps.pt")
    args = ["--init", str(DATA_DIR / "sft_model"), "--pairs", str(pairs), "--val-pairs", str(DATA_DIR / "dpo" / "val.jsonl"),
            "--out", str(run), "--seed", str(seed), "--no-progress", "--threads", str(threads), "--log-every", "10", *extra]
    if (run / "run.json").exists(): args.append("--resume")
    if (rc := dpo_cli(args)) != 0: raise SystemExit(f"dpo_experiment.py: the run {run} failed (exit {rc})")


def summarise(values: list[float]) -> dict:
    ok = [v for v in values if not math.isnan(v)]
    if not ok: return dict(mean=float("nan"), min=float("nan"), max=float("nan"), spread=float("nan"), seeds=values)
    return dict(mean=sum(ok) / len(ok), min=min(ok), max=max(ok), spread=max(ok) - min(ok), seeds=values)


def verdict(table: dict, variant: str) -> dict:
    "Which metrics the variant improves beyond the seed spread, and which it loses more than 2 points on."
    sign = lambda k: -1 if k in LOWER_IS_BETTER else 1
    better, worse = [], []
    for k in METRICS:
        s, v = table["sft"][k]["mean"], table[variant][k]
        if math.isnan(s) or math.isnan(v["mean"]): continue
        gain = sign(k) * (v["mean"] - s)
        # one seed has no spread of its own: take that of Llama 3's settings over the seeds
        spread = v["spread"] if len(v["seeds"]) > 1 else table.get("dpo-llama3", {}).get(k, {}).get("spread", float("nan"))
        if gain > 0 and gain > spread: better.append(k)
        if gain < -0.02: worse.append(k)
    return dict(better=better, worse_by_more_than_2_points=worse, goal_met=bool(better) and not worse)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="dpo_experiment.py", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/dpo-experiment")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--ablation-seeds", type=int, nargs="+", default=[0], help="seeds of the other variants")
    ap.add_argument("--all-seeds-for", nargs="+", default=["llama3"], choices=list(VARIANTS),
                    help="variants run with every --seeds (default: %(default)s)")
    ap.add_argument("--pairs-limit", type=int, default=640, help="train on the first N pairs of data/dpo/train.jsonl "
                    "(the reference's log-probs are computed for all of them; the file is already shuffled)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-base", action="store_true", help="skip the pre-trained model's 3-shot evaluation")
    a = ap.parse_args(argv)
    import torch
    torch.set_num_threads(a.threads)
    from llama31_edu.sft import SFT_BASE, SFT_DATA, load_dialogs
    from llama31_edu.tokenizer import DATA_DIR, atomic_write
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = out / "pairs-train.jsonl"
    lines = (DATA_DIR / "dpo" / "train.jsonl").read_text().splitlines(True)[:a.pairs_limit]
    if not pairs.exists() or pairs.read_text() != "".join(lines): atomic_write(pairs, "".join(lines))
    test = load_dialogs(SFT_DATA / "test.jsonl")
    table = {"sft": {k: summarise([v]) for k, v in evaluate(DATA_DIR / "sft_model", test, out / "sft-eval.json").items()}}
    seeds_of = lambda v: a.seeds if v in a.all_seeds_for else a.ablation_seeds
    for variant in sorted(a.variants, key=lambda v: v != "llama3"):      # Llama 3's settings first: the goal is about them
        per_seed = []
        for seed in seeds_of(variant):
            run = out / f"{variant}-seed{seed}"
            t = time.time()
            train(run, seed, VARIANTS[variant], a.threads, pairs)
            per_seed.append(evaluate(run / "model", test, run / "eval.json"))
            print(f"{run}: trained and evaluated ({time.time() - t:.0f}s this session)", flush=True)
        table[f"dpo-{variant}"] = {k: summarise([m[k] for m in per_seed]) for k in per_seed[0]}
        if variant == "llama3" and not a.no_base:
            train_dialogs = load_dialogs(SFT_DATA / "train.jsonl")
            shots = [next(d for d in train_dialogs if d["family"] == f) for f in ("arithmetic", "words", "policy")]
            table["base"] = {k: summarise([v]) for k, v in evaluate(Path(SFT_BASE), test, out / "base-eval.json", shots).items()}
    verdicts = {v: verdict(table, v) for v in table if v.startswith("dpo-")}
    pref = {}
    for variant in a.variants:
        ms = [json.loads((out / f"{variant}-seed{s}" / "metrics.json").read_text()) for s in seeds_of(variant)]
        pref[f"dpo-{variant}"] = {k: summarise([m[k] for m in ms]) for k in ("val_preference_accuracy", "val_reward_margin", "wall_seconds")}
    table = {k: table[k] for k in ("base", "sft", *[f"dpo-{v}" for v in VARIANTS]) if k in table}
    results = dict(metrics=list(METRICS), seeds={f"dpo-{v}": seeds_of(v) for v in a.variants}, pairs=a.pairs_limit, dialogs=len(test), table=table, verdicts=verdicts, validation_pairs=pref)
    atomic_write(out / "results.json", json.dumps(results, indent=1))
    cols = list(table)
    print(f"\nheld-out split: {len(test)} dialogs (data/sft/test.jsonl); DPO: mean over seeds [min, max] "
          f"({', '.join(f'{v}: {seeds_of(v)}' for v in a.variants)}); %\n")
    print("| metric | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols))
    for k in METRICS:
        cells = []
        for c in cols:
            s = table[c][k]
            cells.append(f"{100 * s['mean']:.1f}" + (f" [{100 * s['min']:.1f}, {100 * s['max']:.1f}]" if len(s["seeds"]) > 1 else ""))
        print(f"| {k}{' (lower is better)' if k in LOWER_IS_BETTER else ''} | " + " | ".join(cells) + " |")
    print("\nvalidation pairs (data/dpo/val.jsonl), after DPO:")
    for v, p in pref.items():
        print(f"  {v}: preference accuracy {100 * p['val_preference_accuracy']['mean']:.1f}% "
              f"[{100 * p['val_preference_accuracy']['min']:.1f}, {100 * p['val_preference_accuracy']['max']:.1f}], reward margin "
              f"{p['val_reward_margin']['mean']:+.3f}, {p['wall_seconds']['mean']:.0f} s per run")
    for v, d in verdicts.items():
        print(f"{v}: better than SFT beyond the seed spread: {', '.join(d['better']) or 'none'}; worse by > 2 points: "
              f"{', '.join(d['worse_by_more_than_2_points']) or 'none'} -> goal {'met' if d['goal_met'] else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

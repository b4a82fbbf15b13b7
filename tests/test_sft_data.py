"The chat fine-tuning data of chapter 14: the shipped files are what the script writes, and the wide variant keeps test held out."
import json, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_sft_data as msd  # noqa: E402


def test_shipped_data_is_what_the_script_writes():
    r = subprocess.run([sys.executable, str(ROOT / "scripts/make_sft_data.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def _users(rows, family=None):
    return [d["messages"][1]["content"] for d in rows if family is None or d["family"] == family]


def test_wide_variant_keeps_the_test_split_held_out():
    wide = msd.make_splits(0, wide=True)
    test_story_words = {"pears", "chairs", "rows", "loaves", "bags", "baker", "farmer", "hall"}
    train_words = {w.lower() for u in _users(wide["train"], "arithmetic") for w in re.findall(r"[A-Za-z]+", u)}
    assert not test_story_words & train_words
    # every test question still comes from a held-out template, story or frame, and none of them reaches train
    held = [t.split("{")[0] for t in msd.TEMPLATES["test"]] + [s.split("{")[0] for s, _ in msd.WORD_PROBLEMS["test"] if s[0] != "{"]
    held += [f.split("{")[0] for f in msd.FRAMES["test"]]
    assert all(not u.startswith(h) for u in _users(wide["train"]) for h in held if h)
    test_users = _users(wide["test"])
    assert sum(any(u.startswith(h) for h in held if h) for u in test_users) >= len(_users(wide["test"], "arithmetic")) // 2
    # the wide training split really is wider: more distinct question openings than the shipped one
    shapes = lambda rows: {re.sub(r"\d+", "N", u) for u in _users(rows, "arithmetic")}   # questions with numbers blanked
    assert len(shapes(wide["train"])) > 2 * len(shapes(msd.make_splits(0)["train"]))


def test_wide_refuses_to_overwrite_the_shipped_data():
    r = subprocess.run([sys.executable, str(ROOT / "scripts/make_sft_data.py"), "--wide"], capture_output=True, text=True)
    assert r.returncode == 2 and "--wide" in r.stderr and "own --out" in r.stderr

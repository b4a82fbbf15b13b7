"Solutions to chapter 1's exercises (tokenizer)."
import regex

from llama31_edu.tokenizer import train_bpe, Tokenizer


def bytes_per_token(tokenizer: Tokenizer, text: str) -> float:
    "Exercise 1: UTF-8 bytes of `text` divided by its number of tokens (no BOS/EOS)."
    return len(text.encode("utf-8")) / len(tokenizer.encode(text, bos=False, eos=False))


def bpe_word(word: bytes, ranks: dict[bytes, int]) -> list[int]:
    "Exercise 2: byte-level BPE on one pre-token: merge the adjacent pair of lowest rank until none is in `ranks`."
    parts = [bytes([b]) for b in word]
    while len(parts) > 1:
        best = min(range(len(parts) - 1), key=lambda i: ranks.get(parts[i] + parts[i + 1], float("inf")))
        pair = parts[best] + parts[best + 1]
        if pair not in ranks: break
        parts[best:best + 2] = [pair]
    return [ranks[p] for p in parts]


WHITESPACE_SPLIT = r"\s*\S+|\s+"


def train_whitespace_bpe(text: str, vocab_size: int) -> dict[bytes, int]:
    "Exercise 3: BPE whose pre-tokenizer only splits at whitespace (words keep their punctuation and digits)."
    return train_bpe(text, vocab_size, pat_str=WHITESPACE_SPLIT)

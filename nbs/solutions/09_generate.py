"Solutions to chapter 9's exercises (generation)."
import torch


def top_k_probs(logits: torch.Tensor, k: int) -> torch.Tensor:
    "Exercise 1: softmax over the k largest logits only; every other token gets probability 0."
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return torch.softmax(logits.masked_fill(logits < kth, float("-inf")), dim=-1)


def nucleus(probs: torch.Tensor, p: float) -> torch.Tensor:
    "Exercise 2: the shortest set of most likely tokens whose mass reaches p, renormalised."
    sorted_p, order = probs.sort(dim=-1, descending=True)
    before = sorted_p.cumsum(-1) - sorted_p                 # mass of the tokens ranked above each one
    kept = torch.where(before < p, sorted_p, torch.zeros_like(sorted_p))
    out = torch.zeros_like(probs).scatter(-1, order, kept)
    return out / out.sum(-1, keepdim=True)


def line_stop_tokens(tokenizer) -> list[int]:
    "Exercise 3: the usual stop tokens plus every token whose text contains a newline, so a reply ends at its first line."
    newline = [i for i in range(tokenizer.n_words) if i not in tokenizer.special_tokens.values()
               and b"\n" in tokenizer.token_bytes(i)]
    return list(tokenizer.stop_tokens) + newline

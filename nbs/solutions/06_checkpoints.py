"Solutions to chapter 6's exercises (checkpoints)."
import torch
from llama31_edu.checkpoints import hf_to_meta_key
from llama31_edu.rope import permute_from_hf


def query_heads_on_rank(rank: int, n_heads: int, n_kv_heads: int, n_shards: int) -> list[int]:
    "Exercise 1: each rank holds an equal, consecutive block of query heads (their rows of wq)."
    per_rank = n_heads // n_shards
    return list(range(rank * per_rank, (rank + 1) * per_rank))


def hf_row_order(n_heads: int, head_dim: int) -> torch.Tensor:
    "Exercise 2: inside each head, Meta's even rows (first members of the pairs), then its odd rows."
    one_head = torch.cat([torch.arange(0, head_dim, 2), torch.arange(1, head_dim, 2)])
    return torch.cat([h * head_dim + one_head for h in range(n_heads)])


def meta_from_hf(hf_sd: dict, args) -> dict:
    "Exercise 3: Meta's names, and q/k rows back to interleaved pairs (wq per query head, wk per key/value head)."
    out = {}
    for k, t in hf_sd.items():
        name = hf_to_meta_key(k)
        if name is None: continue
        if name.endswith("attention.wq.weight"): t = permute_from_hf(t, args.n_heads)
        if name.endswith("attention.wk.weight"): t = permute_from_hf(t, args.n_kv_heads)
        out[name] = t
    return out

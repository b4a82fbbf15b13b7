"Solutions to chapter 4's exercises (attention and the KV cache)."
import torch


def kv_cache_bytes(n_layers: int, n_kv_heads: int, head_dim: int, seq_len: int, batch: int, bytes_per_value: int) -> int:
    "Exercise 1: keys and values, for every layer, kv head, position and row."
    return 2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_value


def repeat_kv_no_expand(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    "Exercise 2: kv head j becomes query heads j*n_rep ... j*n_rep + n_rep - 1, with repeat_interleave."
    return x.repeat_interleave(n_rep, dim=1)


def sliding_window_mask(T: int, window: int) -> torch.Tensor:
    "Exercise 3: query t may attend to keys s with t - window < s <= t."
    t, s = torch.arange(T)[:, None], torch.arange(T)[None, :]
    return (s <= t) & (s > t - window)

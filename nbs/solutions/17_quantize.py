"Solutions to chapter 17's exercises (quantization)."
import torch

# Exercise 1: 70B in int4 with groups of 128 reads about 36.9e9 bytes per decoded token (bytes_table); at 3.35 TB/s:
bound_70b_int4 = 3.35e12 / 36.9e9          # about 91 tokens/s


def asymmetric_helps() -> torch.Tensor:
    "Exercise 2: all values positive: a symmetric scheme spends its negative half of the levels on nothing."
    return torch.rand(1, 256) + 1.0


def quantize_int4_sym(w: torch.Tensor, group_size: int = 32):
    "Exercise 3: q = round(w / scale) in [-7, 7] with scale = absmax / 7 per group; returns (q int8 (N, K), scale (N, K/g))."
    N, K = w.shape
    g = w.float().reshape(N, K // group_size, group_size)
    scale = g.abs().amax(-1).clamp(min=1e-10) / 7
    q = torch.round(g / scale[..., None]).clamp(-8, 7).to(torch.int8)
    return q.reshape(N, K), scale

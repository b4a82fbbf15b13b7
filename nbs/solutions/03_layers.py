"Solutions to chapter 3's exercises (RMSNorm and SwiGLU)."
import torch
import torch.nn.functional as F


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    "Exercise 1: x / sqrt(mean(x^2) + eps) * weight, statistics in fp32, result in x's dtype."
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).type_as(x) * weight


def hidden_width(dim: int, multiple_of: int, ffn_dim_multiplier=None) -> int:
    "Exercise 2: Llama's FFN width: 2/3 of 4*dim, times the multiplier, rounded up to a multiple of multiple_of."
    h = int(2 * (4 * dim) / 3)
    if ffn_dim_multiplier is not None: h = int(ffn_dim_multiplier * h)
    return multiple_of * ((h + multiple_of - 1) // multiple_of)


def fused_ffn(ff):
    "Exercise 3: the same SwiGLU with w1 and w3 stacked into one (2h, d) matrix: one matmul instead of two."
    w13 = torch.cat([ff.w1.weight, ff.w3.weight], 0)
    def forward(x):
        gate, up = F.linear(x, w13).chunk(2, dim=-1)
        return ff.w2(F.silu(gate) * up)
    return forward

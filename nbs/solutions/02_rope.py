"Solutions to chapter 2's exercises (RoPE)."
import math
import torch


def wavelength(dim: int, i: int, theta: float = 500000.0) -> float:
    "Exercise 1: tokens for pair i of a head of size dim to turn once: 2*pi / theta^(-2i/dim)."
    return 2 * math.pi * theta ** (2 * i / dim)


def rotate(x: torch.Tensor, m: int, theta: float = 500000.0) -> torch.Tensor:
    "Exercise 2: rotate each interleaved pair (x[2i], x[2i+1]) of a head vector by m * theta^(-2i/d), with cos and sin."
    d = x.shape[-1]
    w = theta ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    c, s = torch.cos(m * w), torch.sin(m * w)
    a, b = x[..., 0::2].double(), x[..., 1::2].double()
    out = torch.empty_like(x, dtype=torch.float64)
    out[..., 0::2], out[..., 1::2] = a * c - b * s, a * s + b * c
    return out.to(x.dtype)


def blend_fraction(wavelen: float, original: int = 8192, low: float = 1.0, high: float = 4.0) -> float:
    "Exercise 3: the share of the unscaled frequency Llama 3.1 keeps: 1 for fast pairs, 0 for slow ones, linear in between."
    return min(1.0, max(0.0, (original / wavelen - low) / (high - low)))

"Solutions to chapter 13's exercises (long context)."
import math

import torch


def mask_from_lengths(lengths: list[int]) -> torch.Tensor:
    "Exercise 1: the (T, T) boolean document mask of documents of these lengths packed in one window."
    T = sum(lengths)
    doc = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
    return torch.ones(T, T, dtype=torch.bool).tril() & (doc[:, None] == doc[None, :])


def scaling_regimes(head_dim: int, theta: float, low_freq_factor: float, high_freq_factor: float,
                    original_max_seq_len: int) -> list[str]:
    "Exercise 2: 'kept', 'blended' or 'divided' for each RoPE pair under Llama 3.1's rule."
    out = []
    for i in range(head_dim // 2):
        wavelength = 2 * math.pi * theta ** (2 * i / head_dim)
        if wavelength < original_max_seq_len / high_freq_factor: out.append("kept")
        elif wavelength > original_max_seq_len / low_freq_factor: out.append("divided")
        else: out.append("blended")
    return out


def masked_fraction(lengths: list[int]) -> float:
    "Exercise 3: the fraction of the causal mask's (query, key) pairs that the document mask removes."
    T = sum(lengths)
    causal = T * (T + 1) // 2
    kept = sum(n * (n + 1) // 2 for n in lengths)
    return (causal - kept) / causal

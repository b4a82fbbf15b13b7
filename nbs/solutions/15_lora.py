"Solutions to chapter 15's exercises (LoRA)."
import torch
from llama31_edu.layers import ffn_hidden_dim


def adapter_params(args, rank, targets) -> int:
    "Exercise 1: r (d_in + d_out) for every targeted matrix of every block."
    head_dim = args.dim // args.n_heads
    kv = (args.n_kv_heads or args.n_heads) * head_dim
    hidden = ffn_hidden_dim(args.dim, args.multiple_of, args.ffn_dim_multiplier)
    shapes = {"wq": (args.dim, args.dim), "wk": (args.dim, kv), "wv": (args.dim, kv), "wo": (args.dim, args.dim),
              "w1": (args.dim, hidden), "w2": (hidden, args.dim), "w3": (args.dim, hidden)}      # (d_in, d_out)
    return args.n_layers * sum(rank * sum(shapes[t]) for t in targets)


def best_adapter(delta, r):
    "Exercise 2: the r largest singular triplets; the singular values split evenly between B and A."
    U, S, Vh = torch.linalg.svd(delta, full_matrices=False)
    root = S[:r].sqrt()
    return U[:, :r] * root, root[:, None] * Vh[:r]

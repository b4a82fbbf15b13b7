"Solutions to chapter 5's exercises (the whole model)."
from dataclasses import replace
import torch
from llama31_edu.layers import ffn_hidden_dim
from llama31_edu.model import ModelArgs, Transformer


def param_count(args: ModelArgs) -> int:
    "Exercise 1: embedding + output head, then per layer four attention projections, three FFN matrices, two norms; one final norm."
    kv = args.n_kv_heads or args.n_heads
    head_dim = args.dim // args.n_heads
    hidden = ffn_hidden_dim(args.dim, args.multiple_of, args.ffn_dim_multiplier)
    attention = 2 * args.dim * args.dim + 2 * args.dim * kv * head_dim      # wq, wo square; wk, wv only kv heads wide
    ffn = 3 * args.dim * hidden
    return 2 * args.vocab_size * args.dim + args.n_layers * (attention + ffn + 2 * args.dim) + args.dim


def block_forward(block, x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
    "Exercise 2: pre-norm residual connections around attention, then around the feed-forward network."
    h = x + block.attention(block.attention_norm(x), freqs_cis, None, None)
    return h + block.feed_forward(block.ffn_norm(h))


def mean_pool_kv(model: Transformer, n_kv_heads: int) -> Transformer:
    "Exercise 3: a model with fewer key/value heads, each the mean of the group of old heads its query heads used."
    old = model.args.n_kv_heads or model.args.n_heads
    if old % n_kv_heads: raise ValueError(f"n_kv_heads={n_kv_heads} must divide the model's {old}")
    new = Transformer(replace(model.args, n_kv_heads=n_kv_heads))
    sd = {}
    for k, w in model.state_dict().items():
        if k.endswith(("attention.wk.weight", "attention.wv.weight")):
            hd = w.shape[0] // old
            w = w.view(n_kv_heads, old // n_kv_heads, hd, w.shape[1]).mean(1).reshape(n_kv_heads * hd, w.shape[1])
        sd[k] = w
    new.load_state_dict(sd)
    return new

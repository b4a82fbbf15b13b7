"Solutions to chapter 16's exercises (preference optimisation, DPO)."
import math

from llama31_edu.dpo import FORMAT_TOKENS, prompt_length
from llama31_edu.sft import render_dialog


def pair_loss(pi_w, pi_l, ref_w, ref_l, beta):
    "Exercise 1: -log sigmoid(m) with m = beta * ((pi_w - ref_w) - (pi_l - ref_l)); log 2 when policy == reference."
    m = beta * ((pi_w - ref_w) - (pi_l - ref_l))
    return math.log1p(math.exp(-m)) if m > -30 else -m + math.log1p(math.exp(m))   # softplus(-m), without overflow


def pull(margins, beta):
    "Exercise 2: |d loss / d log pi(y_w|x)| = beta * sigmoid(-m); pairs already won by a wide margin stop pulling."
    return [beta / (1 + math.exp(m)) for m in margins]


def scored_tokens(pair, tokenizer, mask_format_tokens):
    "Exercise 3: the assistant's tokens after the prompt, less the formatting tokens when masked."
    drop = {tokenizer.special_tokens[t] for t in FORMAT_TOKENS} if mask_format_tokens else set()
    counts = []
    for side in ("chosen", "rejected"):
        msgs = pair[side]
        ids, mask = render_dialog(msgs, tokenizer)
        start = len(render_dialog(msgs[:prompt_length(msgs)], tokenizer)[0])
        counts.append(sum(1 for i, (t, m) in enumerate(zip(ids, mask)) if m and i >= start and t not in drop))
    return tuple(counts)

"Solutions to chapter 14's exercises (supervised fine-tuning)."
from llama31_edu.sft import REFUSAL, render_dialog


def target_share(messages, tokenizer) -> float:
    "Exercise 1: targets of the loss over all tokens of the rendered dialog."
    ids, mask = render_dialog(messages, tokenizer)
    return sum(mask) / len(ids)


def render_final_only(messages, tokenizer):
    "Exercise 2: the ids of render_dialog; targets only in the last assistant message."
    ids, mask = render_dialog(messages, tokenizer)
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    start = len(render_dialog(messages[:last], tokenizer)[0])     # where the last assistant message begins
    return ids, [m and i >= start for i, m in enumerate(mask)]


def refusal_scores(replies, should_refuse):
    "Exercise 3: precision = right refusals / refusals made; recall = right refusals / refusals called for."
    refused = [r == REFUSAL for r in replies]
    tp = sum(a and b for a, b in zip(refused, should_refuse))
    made, wanted = sum(refused), sum(should_refuse)
    return (tp / made if made else float("nan")), (tp / wanted if wanted else float("nan"))

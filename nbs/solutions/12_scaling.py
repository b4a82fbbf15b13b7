"Solutions to chapter 12's exercises (the model card by the numbers)."
from llama31_edu.scaling import kv_bytes, weight_bytes, n_params, H100_BF16_FLOPS


def tokens_per_gpu_second(tokens: float, gpu_hours: float) -> float:
    "Exercise 1: training tokens each GPU processed per second, on average."
    return tokens / (gpu_hours * 3600)


def mfu_from_throughput(tokens_per_s_per_gpu: float, n_params: float, peak_flops: float = H100_BF16_FLOPS) -> float:
    "Exercise 2: 6 N FLOPs per token, times tokens per second, over the peak."
    return 6 * n_params * tokens_per_s_per_gpu / peak_flops


def max_context(model: str, n_gpus: int, gpu_bytes: float = 80e9, dtype: str = "bf16") -> int:
    "Exercise 3: the most tokens of KV cache (batch 1, bf16 cache) that fit beside the weights on n_gpus."
    free = n_gpus * gpu_bytes - weight_bytes(model, dtype)
    return max(0, int(free // kv_bytes(model, 1)))

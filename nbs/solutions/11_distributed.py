"Solutions to chapter 11's exercises (DDP and FSDP2)."


def my_rows(global_batch: int, world_size: int, rank: int) -> range:
    "Exercise 1: the rows of a global batch that rank `rank` of `world_size` trains on."
    n = global_batch // world_size
    return range(rank * n, (rank + 1) * n)


def gpus_for(n_params: int, block_params: int, gpu_gb: float = 80) -> int:
    "Exercise 2: the smallest power-of-two number of GPUs on which FSDP's training state takes at most half a GPU."
    g = 1
    while 16 * n_params / g + 4 * block_params > gpu_gb / 2 * 1e9: g *= 2
    return g

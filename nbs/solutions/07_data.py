"Solutions to chapter 7's exercises (the data pipeline)."
import torch


def n_windows(n_tokens: int, seq_len: int) -> int:
    "Exercise 1: a window of seq_len inputs needs seq_len + 1 tokens, and consecutive windows share one token."
    return (n_tokens - 1) // seq_len


def position_in_document(x: torch.Tensor, bos_id: int) -> torch.Tensor:
    "Exercise 2: the index minus the index of the latest bos at or before it (the window's start if there is none)."
    T = x.shape[-1]
    idx = torch.arange(T).expand_as(x)
    start = torch.where(x == bos_id, idx, torch.zeros_like(idx)).cummax(dim=-1).values
    return idx - start


class Mixture:
    "Exercise 3: every `every`-th batch from `b`, the others from `a`; the state is both sources' and the count."
    def __init__(self, a, b, every: int):
        self.a, self.b, self.every, self.count = a, b, every, 0

    def next(self):
        self.count += 1
        return (self.b if self.count % self.every == 0 else self.a).next()

    def state_dict(self) -> dict:
        return {"a": self.a.state_dict(), "b": self.b.state_dict(), "count": self.count, "every": self.every}

    def load_state_dict(self, sd: dict) -> None:
        if sd["every"] != self.every: raise ValueError(f"checkpoint mixes every {sd['every']}, this run every {self.every}")
        self.a.load_state_dict(sd["a"]); self.b.load_state_dict(sd["b"]); self.count = sd["count"]

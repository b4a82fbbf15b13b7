"Solutions to chapter 8's exercises (the training engine)."
import torch
import torch.nn.functional as F


def weighted_loss(model, batch):
    "Exercise 1: cross-entropy of `y` given `x`, each target weighted by `w`; returns (weighted sum, sum of weights)."
    x, y, w = batch
    per_token = F.cross_entropy(model(x).float().flatten(0, 1), y.flatten(), reduction="none")
    return (per_token * w.flatten()).sum(), w.sum()


class EveryOther:
    "Exercise 2: a batch source that hands out every other batch of `source`, resumable."
    def __init__(self, source): self.source, self.drawn = source, 0
    def next(self):
        self.source.next()                      # skip one ...
        self.drawn += 1
        return self.source.next()               # ... keep the next
    def state_dict(self): return dict(drawn=self.drawn, source=self.source.state_dict())
    def load_state_dict(self, d): self.drawn = d["drawn"]; self.source.load_state_dict(d["source"])


def freeze_all_but_norms(model) -> None:
    "Exercise 3: only the RMSNorm gains keep requires_grad."
    for name, p in model.named_parameters(): p.requires_grad_(name.endswith("norm.weight"))

"""Modular arithmetic a∘b mod p: the classic grokking task (Power et al. 2022).

All pairs (a, b) are enumerated (b ≠ 0 for division), shuffled by the seed, and the
first ``n_train`` become the training set; the rest is validation. The whole dataset
lives on the device as tensors: no DataLoader, full-batch by default.
"""
from __future__ import annotations

from typing import Any, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from grokconsole.train.metrics import accuracy, effective_rank
from grokconsole.train.models import DecoderTransformer, TokenMLP
from grokconsole.train.tasks.base import Batch, Task


def make_pairs(p: int, op: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (N, 2) and labels (N,) of every pair for the operation."""
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    if op == "div":
        keep = b != 0
        a, b = a[keep], b[keep]
        # a / b = a * b^(p-2) mod p (p prime)
        y = torch.tensor([(int(x) * pow(int(z), p - 2, p)) % p for x, z in zip(a, b)])
    elif op == "add":
        y = (a + b) % p
    elif op == "sub":
        y = (a - b) % p
    elif op == "mul":
        y = (a * b) % p
    else:
        raise ValueError(f"unknown op {op}")
    return torch.stack([a, b], dim=1), y


class ModArith(Task):
    name = "modarith"

    def __init__(self, config: dict[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        p, op = int(config["p"]), str(config["op"])
        x, y = make_pairs(p, op)
        perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(int(config["seed"])))
        n = int(config["n_train"])
        tr, va = perm[:n], perm[n:]
        self.p = p
        self.transformer = config["model"] == "transformer"
        if self.transformer:
            # Sequence "a b =": the answer is read at the last position.
            eq = torch.full((len(y), 1), p)
            x = torch.cat([x, eq], dim=1)
        self.x_train, self.y_train = x[tr].to(device), y[tr].to(device)
        self.x_val, self.y_val = x[va].to(device), y[va].to(device)
        self.batch_size = int(config["batch_size"]) or n

    def build_model(self) -> nn.Module:
        c = self.config
        if self.transformer:
            return DecoderTransformer(vocab=self.p + 1, seq_len=3, n_out=self.p, d_model=int(c["d_model"]),
                                      n_heads=int(c["n_heads"]), n_layers=int(c["n_layers"]),
                                      d_mlp=int(c["d_mlp"]), layernorm=bool(c["layernorm"]))
        return TokenMLP(vocab=self.p, n_tokens=2, n_out=self.p, d_embed=int(c["d_embed"]),
                        d_hidden=int(c["d_hidden"]))

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        n = len(self.y_train)
        if self.batch_size >= n:
            yield self.x_train, self.y_train
            return
        order = torch.randperm(n, generator=generator).to(self.device)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self.x_train[idx], self.y_train[idx]

    def training_loss(self, model: nn.Module, batch: Batch, step: int) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(model(x), y)

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        out: dict[str, float] = {}
        for split, x, y in (("train", self.x_train, self.y_train), ("val", self.x_val, self.y_val)):
            feats = model.features(x)
            logits = model.head(feats)
            out[f"{split}_loss"] = float(F.cross_entropy(logits.float(), y))
            out[f"{split}_acc"] = float(accuracy(logits, y))
            if split == "val":
                out["feature_rank"] = effective_rank(feats)
        return out


TASK_CLASS = ModArith

"""Modular arithmetic a∘b mod p: the classic grokking task (Power et al. 2022).

All pairs (a, b) are enumerated (b ≠ 0 for division, or with ``exclude_zero``), shuffled
by the seed, and the first ``n_train`` become the training set; the rest is validation.
The whole dataset lives on the device as tensors: no DataLoader, full-batch by default.

Transformer sequences are ``a b =`` (vocabulary p + 1, p classes) or, with
``arch=grokfast``, ``a ∘ b =`` as in ironjr/grokfast (vocabulary p + 2; the head scores the
whole vocabulary). Loss and accuracy are read at the last position only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from grokconsole.tasks.metrics import effective_rank
from grokconsole.tasks.modarith.models import DecoderTransformer, TokenMLP
from grokconsole.tasks.api import Batch, PairForward, Task, minibatches, n_minibatches

if TYPE_CHECKING:
    from grokconsole.tasks.splits import EvalSplit

EVAL_CHUNK = 1024  # rows per evaluation forward pass: cache-sized (4,656 rows in one pass was 1.5× slower)


def make_pairs(p: int, op: str, exclude_zero: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (N, 2) and labels (N,) of every pair for the operation."""
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    if op == "div" or exclude_zero:
        keep = b != 0
        a, b = a[keep], b[keep]
    if op == "div":
        # a / b = a * b^(p-2) mod p (p prime)
        inv = torch.tensor([pow(z, p - 2, p) if z else 0 for z in range(p)])
        y = (a * inv[b]) % p
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
        x, y = make_pairs(p, op, bool(config.get("exclude_zero", False)))
        self.p = p
        self.transformer = config["model"] == "transformer"
        self.grokfast = self.transformer and config.get("arch", "default") == "grokfast"
        flat = x[:, 0] * p + x[:, 1]  # each pair's cell in the p × p grid of operands
        x = self._tokens(x)
        self.seq_len = x.shape[1]
        # reference_rng: ironjr/grokfast's random stream — the model's initial weights, then the
        # split, then each epoch's shuffle, all from the global torch RNG the trainer seeded — so a
        # seed gives that code's run. Otherwise split and shuffles have generators of their own.
        self.reference_rng = bool(config.get("reference_rng", False))
        self._model = self._new_model() if self.reference_rng else None
        self._order: torch.Tensor | None = None  # reference_rng: the composed shuffle so far
        split_gen = None if self.reference_rng else torch.Generator().manual_seed(int(config["seed"]))
        perm = torch.randperm(len(y), generator=split_gen)
        n = int(config["n_train"])
        tr, va = perm[:n], perm[n:]
        self.x_train, self.y_train = x[tr].to(device), y[tr].to(device)
        self.x_val, self.y_val = x[va].to(device), y[va].to(device)
        self.cell_train, self.cell_val = flat[tr].to(device), flat[va].to(device)
        self.progress = bool(config.get("progress_measures", True))
        self.progress_keys = int(config.get("progress_key_freqs", 5))
        self.batch_size = int(config["batch_size"]) or n
        self.rank_rows = int(config.get("rank_rows", 2048))
        # train_eval=running: train loss/acc are the averages over the batches trained since the
        # last evaluation (as ironjr/grokfast reports them), not a second pass over the train set.
        self.running_train = config.get("train_eval", "full") == "running"
        self._run_loss = torch.zeros((), device=device)
        self._run_hits = torch.zeros((), device=device, dtype=torch.long)
        self._run_n = 0
        self._forward: PairForward | None = None

    def _tokens(self, pairs: torch.Tensor) -> torch.Tensor:
        """Model inputs of (a, b) pairs: the pairs for the MLP; "a b =" (or "a op b =" for
        arch=grokfast) for the transformer, whose answer is read at the last position."""
        if not self.transformer:
            return pairs
        eq = torch.full((len(pairs), 1), self.p, dtype=pairs.dtype, device=pairs.device)
        if self.grokfast:
            return torch.cat([pairs[:, :1], torch.full_like(eq, self.p + 1), pairs[:, 1:], eq], dim=1)
        return torch.cat([pairs, eq], dim=1)

    def use_compiled(self, forward: PairForward) -> None:
        # The models here have no dropout or batch norm. Through the compiled graph a validation
        # takes 30-50 % less time than eagerly (chunks of the training batch size).
        self._forward = forward

    def build_model(self) -> nn.Module:
        if self._model is not None:  # built before the split (reference_rng)
            model, self._model = self._model, None
            return model
        return self._new_model()

    def _new_model(self) -> nn.Module:
        c = self.config
        if self.transformer:
            vocab = self.p + 2 if self.grokfast else self.p + 1
            model = DecoderTransformer(vocab=vocab, seq_len=self.seq_len,
                                      n_out=vocab if self.grokfast else self.p, d_model=int(c["d_model"]),
                                      n_heads=int(c["n_heads"]), n_layers=int(c["n_layers"]),
                                      d_mlp=int(c["d_mlp"]), layernorm=bool(c["layernorm"]),
                                      arch="grokfast" if self.grokfast else "default")
            if c.get("prefix_sharing", True):
                # Token 0 is a, the operator token (grokfast) is the same in every row.
                model.shared_prefix = 2 if self.grokfast else 1
            return model
        return TokenMLP(vocab=self.p, n_tokens=2, n_out=self.p, d_embed=int(c["d_embed"]),
                        d_hidden=int(c["d_hidden"]))

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        if self.reference_rng:
            return self._reference_batches()
        return minibatches((self.x_train, self.y_train), self.batch_size, generator, self.device)

    def _reference_batches(self) -> Iterator[Batch]:
        """ironjr/grokfast's epoch: shuffle the already shuffled rows (the permutations compose)
        with the global RNG, then consecutive batches."""
        perm = torch.randperm(len(self.y_train))
        self._order = perm if self._order is None else self._order[perm]
        order = self._order.to(self.device)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.x_train[idx], self.y_train[idx]

    def state_dict(self) -> dict[str, Any]:
        return {"order": self._order} if self._order is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._order = state.get("order")

    def steps_per_epoch(self) -> int:
        return n_minibatches(len(self.y_train), self.batch_size)

    def training_loss(self, model: nn.Module, batch: Batch, step: int) -> torch.Tensor:
        x, y = batch
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        if self.running_train:
            # Device-side sums (no host sync); evaluate() reads and resets them.
            with torch.no_grad():
                self._run_loss += loss.detach().float() * len(y)
                self._run_hits += (logits.detach().argmax(dim=-1) == y).sum()
                self._run_n += len(y)
        return loss

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        out: dict[str, float] = {}
        splits = [("train", self.x_train, self.y_train), ("val", self.x_val, self.y_val)]
        if self.running_train and self._run_n:
            out["train_loss"] = float(self._run_loss) / self._run_n
            out["train_acc"] = float(self._run_hits) / self._run_n
            self._run_loss.zero_()
            self._run_hits.zero_()
            self._run_n = 0
            splits = splits[1:]
        kept: dict[str, torch.Tensor] = {}  # each split's logits, for the progress measures
        for split, x, y in splits:
            loss_sum = torch.zeros((), device=self.device)
            hits = torch.zeros((), device=self.device)
            rank_feats, chunks = [], []
            for start, feats, logits in self._chunks(model, x):
                yc = y[start:start + len(logits)]
                loss_sum += F.cross_entropy(logits, yc, reduction="sum")
                hits += (logits.argmax(dim=-1) == yc).sum()
                if split == "val" and start < self.rank_rows:
                    rank_feats.append(feats[: self.rank_rows - start])
                if self.progress:
                    chunks.append(logits)
            out[f"{split}_loss"] = float(loss_sum) / max(1, len(y))
            out[f"{split}_acc"] = float(hits) / max(1, len(y))
            if split == "val" and rank_feats:
                out["feature_rank"] = effective_rank(torch.cat(rank_feats), max_rows=self.rank_rows)
            if chunks:
                kept[split] = torch.cat(chunks)
        if self.progress:
            out.update(self._progress(model, kept))
        return out

    def _chunks(self, model: nn.Module, x: torch.Tensor) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """(start, features, float logits) of ``x`` in evaluation-sized chunks, through the
        compiled graph when the trainer compiled one."""
        chunk = EVAL_CHUNK if self._forward is None else self.batch_size
        for start in range(0, len(x), chunk):
            xc = x[start:start + chunk]
            if self._forward is None:
                feats = model.features(xc)
                logits = model.head(feats)
            else:
                feats, logits = self._forward(xc)
            yield start, feats, logits.float()

    def _progress(self, model: nn.Module, kept: dict[str, torch.Tensor]) -> dict[str, float]:
        """Nanda et al.'s progress measures (:mod:`.progress`) from the logits of every operand
        pair: the evaluated splits' logits are reused, only the pairs outside them are forwarded."""
        from grokconsole.tasks.modarith.progress import progress_measures

        p = self.p
        cells = {"train": self.cell_train, "val": self.cell_val}
        n_out = next(iter(kept.values())).shape[1] if kept else None
        have = torch.zeros(p * p, dtype=torch.bool, device=self.device)
        for split in kept:
            have[cells[split]] = True
        missing = (~have).nonzero().flatten()
        pairs = torch.stack([missing // p, missing % p], dim=1)
        extra = [logits for _, _, logits in self._chunks(model, self._tokens(pairs))] if len(missing) else []
        if n_out is None:
            n_out = extra[0].shape[1]
        grid = torch.empty(p * p, n_out, device=self.device)
        for split, logits in kept.items():
            grid[cells[split]] = logits
        if extra:
            grid[missing] = torch.cat(extra)
        embedding = getattr(model, "embed", None) or getattr(model, "tok")
        return progress_measures(embedding.weight[:p].detach(), grid.view(p, p, n_out),
                                 torch.cat([self.y_train, self.y_val]),
                                 torch.cat([self.cell_train, self.cell_val]), self.cell_train, self.progress_keys)


    def eval_splits(self) -> list[EvalSplit]:
        """The training and the validation pairs."""
        from grokconsole.tasks.splits import EvalSplit

        return [EvalSplit("train", self.x_train, self.y_train), EvalSplit("val", self.x_val, self.y_val)]


TASK_CLASS = ModArith

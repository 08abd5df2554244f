"""Progress measures for modular arithmetic, after Nanda et al. 2023 ("Progress measures for grokking
via mechanistic interpretability").

Why: validation accuracy jumps late, but the generalizing circuit forms gradually before it. These
measures move long before the jump, so a researcher sees *why* a run will grok:

* ``fourier_gini`` — the Gini coefficient of the token embeddings' norms over the Fourier
  frequencies 1…p//2 of the token index (the constant frequency left out). A memorizing network
  spreads its embedding over all frequencies (low Gini); the generalizing algorithm uses a few
  key frequencies (Gini → 1).
* ``restricted_loss`` — the loss on every pair of the dataset with the logits restricted to the key
  frequencies: the logits as a function of the operands (a, b) are transformed by a 2-D discrete
  Fourier transform, and only the components whose two frequencies are both key frequencies (or
  0) are kept, with the constant. It falls once the Fourier circuit alone computes the answer.
* ``excluded_loss`` — the training loss with those key-frequency components removed (the constant
  kept). It rises as the network comes to rely on the circuit instead of memorized lookups.

Key frequencies are the ``k`` largest of the embedding's per-frequency norms. The transform is
over the operands' token index, the basis of modular addition and subtraction; for ``mul``/``div``
the measures are computed the same way, but the generalizing algorithm there lives in the
multiplicative group, so they need not sparsify.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def frequency_norms(embedding: torch.Tensor) -> torch.Tensor:
    """Norm of the (p, d) token embedding at each frequency 0…p//2 of the token index."""
    spectrum = torch.fft.rfft(embedding.float(), dim=0)            # (p//2 + 1, d) complex
    return spectrum.abs().pow(2).sum(dim=1).sqrt()


def gini(values: torch.Tensor) -> float:
    """Gini coefficient of non-negative values: 0 when all are equal, → 1 when one holds all."""
    x = torch.sort(values.float().flatten()).values
    n, total = x.numel(), float(x.sum())
    if n == 0 or total <= 0.0:
        return 0.0
    ranks = torch.arange(1, n + 1, dtype=x.dtype, device=x.device)
    return float(2.0 * (ranks * x).sum() / (n * total) - (n + 1) / n)


def key_frequencies(norms: torch.Tensor, k: int) -> list[int]:
    """The ``k`` frequencies (1…p//2) with the largest embedding norms."""
    tail = norms[1:]
    k = max(0, min(int(k), tail.numel()))
    return sorted(int(i) + 1 for i in torch.topk(tail, k).indices)


def key_basis(p: int, keys: list[int], device: torch.device) -> torch.Tensor:
    """(p, m) orthonormal real Fourier basis of the token index: the constant, then cos and sin of
    each key frequency. Projecting both operand axes on it keeps exactly the 2-D components whose
    two frequencies are key (or 0): a few small matrix products instead of a full 2-D transform
    (p is usually prime, where FFTs are slow)."""
    t = torch.arange(p, dtype=torch.float32, device=device)
    cols = [torch.full((p,), 1.0 / math.sqrt(p), device=device)]
    for w in keys:
        angle = 2 * math.pi * w * t / p
        if 2 * w == p:  # the Nyquist frequency of an even p has no sine
            cols.append(torch.cos(angle) / math.sqrt(p))
        else:
            cols += [torch.cos(angle) * math.sqrt(2.0 / p), torch.sin(angle) * math.sqrt(2.0 / p)]
    return torch.stack(cols, dim=1)


def progress_measures(embedding: torch.Tensor, grid_logits: torch.Tensor, labels: torch.Tensor,
                      data_index: torch.Tensor, train_index: torch.Tensor, k: int) -> dict[str, float]:
    """The three measures from the token embedding (p, d) and the logits of every pair (p, p, C).

    ``data_index``/``train_index`` are flat indices ``a·p + b`` of the dataset's and the training
    pairs, ``labels`` the dataset's labels in ``data_index`` order (the training pairs first).
    """
    p = grid_logits.shape[0]
    norms = frequency_norms(embedding)
    keys = key_frequencies(norms, k)
    grid = grid_logits.float().permute(2, 0, 1)                            # (C, p, p)
    basis = key_basis(p, keys, grid.device)                                 # (p, m)
    kept = basis @ (basis.T @ grid @ basis) @ basis.T                       # key frequencies and 0
    constant = grid.mean(dim=(1, 2), keepdim=True)
    key_part = kept - constant                                              # without the (0, 0) term
    restricted = kept.flatten(1).T                                          # (p·p, C)
    excluded = (grid - key_part).flatten(1).T
    n_train = train_index.numel()
    return {
        "fourier_gini": gini(norms[1:]),
        "restricted_loss": float(F.cross_entropy(restricted[data_index], labels)),
        "excluded_loss": float(F.cross_entropy(excluded[train_index], labels[:n_train])),
    }

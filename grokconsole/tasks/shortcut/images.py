"""Synthetic Camelyon-like images: a centre pattern that decides the label, a border "stain" shortcut.

The centre is a ``grid × grid`` array of cells, each on (a grey square) or off; the label is the parity of a
few fixed cells (hard to learn, but it generalises everywhere). The border ring is tinted
with one of two stain colours; the stain agrees with the label with a probability that depends
on the environment (hospital): high in the training environments, reversed in the OOD one
(easy to learn, but it does not transfer). Pixel noise on top. Neutral value: 0.

Everything is drawn from a ``torch.Generator`` seeded by the run's seed: no files.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

# A pink and a purple-ish stain, as signed offsets around the neutral 0 (R, G, B).
STAIN = (1.0, -0.6, 0.6)
# The parity cells are a fixed draw (the same rule for every seed: seeds vary the data only).
RULE_SEED = 2024


@dataclass(frozen=True)
class ShortcutSpec:
    """Geometry and noise of the images."""

    image_size: int = 16
    border: int = 3
    grid: int = 4
    cell: int = 2
    parity_bits: int = 3
    noise: float = 0.2
    stain: float = 1.0
    contrast: float = 1.0
    off: float = 0.0   # value of an "off" cell (an "on" cell is ``contrast``)

    def check(self) -> None:
        inner = self.image_size - 2 * self.border
        if self.grid * self.cell > inner:
            raise ValueError(f"a {self.grid}×{self.grid} grid of {self.cell}-pixel cells does not fit inside "
                             f"a border of {self.border} on {self.image_size}-pixel images")
        if not 1 <= self.parity_bits <= self.grid * self.grid:
            raise ValueError(f"parity_bits must be between 1 and {self.grid ** 2}")


@dataclass
class Split:
    """Images (N, 3, H, W), labels (N,), environment ids (N,), and the ±1 centre bits."""

    x: torch.Tensor
    y: torch.Tensor
    env: torch.Tensor
    bits: torch.Tensor


def parity_cells(n_cells: int, parity_bits: int) -> list[int]:
    """The centre cells (row-major indices) whose parity is the label."""
    order = torch.randperm(n_cells, generator=torch.Generator().manual_seed(RULE_SEED))
    return sorted(int(i) for i in order[:parity_bits])


def labels_from_bits(bits: torch.Tensor, parity_bits: int) -> torch.Tensor:
    """1 where the product of the parity cells (as ±1) is +1, else 0."""
    cells = parity_cells(bits.shape[1], parity_bits)
    return (bits[:, cells].prod(dim=1) > 0).long()


def render(bits: torch.Tensor, stain_sign: torch.Tensor, spec: ShortcutSpec, gen: torch.Generator) -> torch.Tensor:
    """Draw images for ±1 ``bits`` (N, grid²) and ±1 ``stain_sign`` (N,)."""
    n, size, b = len(bits), spec.image_size, spec.border
    x = torch.randn(n, 3, size, size, generator=gen) * spec.noise
    stain = torch.tensor(STAIN).view(1, 3, 1, 1) * (spec.stain * stain_sign.float()).view(n, 1, 1, 1)
    ring = torch.ones(size, size, dtype=torch.bool)
    ring[b:size - b, b:size - b] = False
    x = x + stain * ring
    on = bits.view(n, 1, spec.grid, spec.grid) > 0
    cells = torch.where(on, spec.contrast, spec.off)
    pattern = cells.repeat_interleave(spec.cell, dim=2).repeat_interleave(spec.cell, dim=3)
    side = spec.grid * spec.cell
    top = (size - side) // 2
    x[:, :, top:top + side, top:top + side] += pattern
    return x


def make_split(n: int, probs: list[float], env_ids: list[int], spec: ShortcutSpec,
               gen: torch.Generator) -> Split:
    """``n`` samples spread evenly over the environments; the stain agrees with the label w.p. probs[e]."""
    spec.check()
    env = torch.tensor(env_ids).repeat_interleave(_shares(n, len(env_ids)))
    bits = torch.randint(0, 2, (n, spec.grid * spec.grid), generator=gen) * 2 - 1
    y = labels_from_bits(bits, spec.parity_bits)
    p = torch.tensor(probs)[torch.searchsorted(torch.tensor(env_ids), env)]
    agree = torch.rand(n, generator=gen) < p
    stain_sign = torch.where(agree, y * 2 - 1, 1 - y * 2)
    return Split(render(bits, stain_sign, spec, gen), y, env, bits)


def _shares(n: int, k: int) -> torch.Tensor:
    base = torch.full((k,), n // k, dtype=torch.long)
    base[: n % k] += 1
    return base


def border_stain_labels(x: torch.Tensor, border: int, y: torch.Tensor | None = None) -> torch.Tensor:
    """0/1 stain of each image: the side of the border ring's mean colour along its main axis.

    Needs no knowledge of the stain colours: the two stains are the two ends of the first
    principal axis of the ring colours. Oriented so that the label agrees with ``y`` on most
    samples (the stain is a shortcut: it agrees with the label in the training environments).
    """
    h, w = x.shape[-2:]
    ring = torch.ones(h, w, dtype=torch.bool, device=x.device)
    ring[border:h - border, border:w - border] = False
    colours = x[..., ring].float().mean(-1).cpu()          # (N, C)
    centred = colours - colours.mean(0)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    labels = (centred @ vh[0] > 0).long()
    if y is not None and float((labels == y.cpu()).float().mean()) < 0.5:
        labels = 1 - labels
    return labels

"""Masking helpers: replace an image's border or centre with a neutral value.

They measure what a model leans on: ``center_conf`` scores images whose border is neutral,
``border_conf`` images whose centre is neutral. Images are (N, C, H, W) tensors; ``border``
is the width in pixels of the outer ring that counts as border (everything inside is centre).
"""
from __future__ import annotations

import torch


def _check(x: torch.Tensor, border: int) -> None:
    if x.dim() != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(x.shape)}")
    if not 0 < 2 * border < min(x.shape[-2:]):
        raise ValueError(f"border width {border} does not fit images of {tuple(x.shape[-2:])}")


def border_mask(height: int, width: int, border: int, device: torch.device | None = None) -> torch.Tensor:
    """Boolean (H, W) mask, True on the outer ring of ``border`` pixels."""
    mask = torch.ones(height, width, dtype=torch.bool, device=device)
    mask[border:height - border, border:width - border] = False
    return mask


def replace_border(x: torch.Tensor, border: int, value: float | torch.Tensor = 0.0) -> torch.Tensor:
    """A copy of ``x`` with the outer ring set to ``value`` (a scalar or a per-channel vector)."""
    _check(x, border)
    mask = border_mask(x.shape[-2], x.shape[-1], border, x.device)
    return _fill(x, mask, value)


def replace_centre(x: torch.Tensor, border: int, value: float | torch.Tensor = 0.0) -> torch.Tensor:
    """A copy of ``x`` with everything inside the outer ring set to ``value``."""
    _check(x, border)
    mask = ~border_mask(x.shape[-2], x.shape[-1], border, x.device)
    return _fill(x, mask, value)


def _fill(x: torch.Tensor, mask: torch.Tensor, value: float | torch.Tensor) -> torch.Tensor:
    fill = torch.as_tensor(value, dtype=x.dtype, device=x.device)
    if fill.dim() == 1:
        fill = fill.view(1, -1, 1, 1)
    return torch.where(mask, fill, x)

"""Masking helpers: border and centre replaced by a neutral value, nothing else touched."""
from __future__ import annotations

import pytest
import torch

from grokconsole.tasks._shift.masking import border_mask, replace_border, replace_centre


def test_border_mask_counts() -> None:
    mask = border_mask(8, 10, 2)
    assert int(mask.sum()) == 8 * 10 - 4 * 6
    assert not mask[2:6, 2:8].any() and mask[0].all() and mask[:, -1].all()


def test_replace_border_and_centre_are_complementary() -> None:
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6) + 1
    b = replace_border(x, 1, 0.0)
    c = replace_centre(x, 1, 0.0)
    assert torch.equal(b + c, x)                     # each pixel kept by exactly one of them
    assert (b[:, :, 0, :] == 0).all() and torch.equal(b[:, :, 1:5, 1:5], x[:, :, 1:5, 1:5])
    assert (c[:, :, 1:5, 1:5] == 0).all() and torch.equal(c[:, :, 0, :], x[:, :, 0, :])
    assert torch.equal(x[0, 0, 0, 0], torch.tensor(1.0))  # the input is not modified


def test_per_channel_neutral_value() -> None:
    x = torch.zeros(1, 3, 5, 5)
    out = replace_border(x, 1, torch.tensor([1.0, 2.0, 3.0]))
    assert out[0, :, 0, 0].tolist() == [1.0, 2.0, 3.0]
    assert out[0, :, 2, 2].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("shape,border", [((3, 6, 6), 1), ((1, 3, 6, 6), 3), ((1, 3, 6, 6), 0)])
def test_bad_inputs(shape: tuple[int, ...], border: int) -> None:
    with pytest.raises(ValueError):
        replace_centre(torch.zeros(shape), border)

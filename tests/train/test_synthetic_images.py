"""The synthetic shortcut images: labels are the centre parity, the stain follows each environment's rate."""
from __future__ import annotations

import pytest
import torch

from grokconsole.tasks._shift.masking import replace_centre
from grokconsole.tasks.shortcut.images import ShortcutSpec, labels_from_bits, make_split, parity_cells


def test_labels_are_the_parity_of_the_rule_cells() -> None:
    cells = parity_cells(16, 3)
    assert len(set(cells)) == 3 and cells == parity_cells(16, 3)
    bits = torch.ones(4, 16, dtype=torch.long)
    bits[1, cells[0]] = -1
    bits[2, cells[:2]] = -1
    bits[3, [c for c in range(16) if c not in cells]] = -1  # other cells do not matter
    assert labels_from_bits(bits, 3).tolist() == [1, 0, 1, 1]


def test_stain_agreement_rate_per_environment() -> None:
    spec = ShortcutSpec(noise=0.0)
    split = make_split(4000, [0.95, 0.7], [0, 1], spec, torch.Generator().manual_seed(0))
    border_red = split.x[:, 0, 0, 0]  # the stain's red offset is +1 for sign +1 (label 1 when agreeing)
    agree = (border_red > 0).long() == split.y
    for env, rate in ((0, 0.95), (1, 0.7)):
        assert float(agree[split.env == env].float().mean()) == pytest.approx(rate, abs=0.03)
    assert float(split.y.float().mean()) == pytest.approx(0.5, abs=0.03)
    assert torch.bincount(split.env).tolist() == [2000, 2000]


def test_centre_pattern_and_neutral_border() -> None:
    spec = ShortcutSpec(noise=0.0)
    split = make_split(8, [1.0], [0], spec, torch.Generator().manual_seed(1))
    top = (spec.image_size - spec.grid * spec.cell) // 2
    cell00 = split.x[:, :, top, top]
    on = split.bits[:, 0] > 0
    assert torch.allclose(cell00[on], torch.full_like(cell00[on], spec.contrast))
    assert torch.allclose(cell00[~on], torch.zeros_like(cell00[~on]))
    # With the centre neutral, only the stain is left.
    masked = replace_centre(split.x, spec.border)
    assert float(masked[:, :, spec.border:-spec.border, spec.border:-spec.border].abs().max()) == 0.0


def test_same_seed_same_data() -> None:
    spec = ShortcutSpec()
    a = make_split(50, [0.9], [0], spec, torch.Generator().manual_seed(3))
    b = make_split(50, [0.9], [0], spec, torch.Generator().manual_seed(3))
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)


def test_geometry_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        make_split(4, [0.9], [0], ShortcutSpec(image_size=12, border=3, grid=4, cell=2),
                   torch.Generator().manual_seed(0))

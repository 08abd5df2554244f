"""Pure-Python checks of the ``shortcut`` task's config, run by ``grok run`` before anything is written.

They catch what would otherwise crash the trainer later: a stain-probability list that does not
parse, images whose geometry does not fit.
"""
from __future__ import annotations

from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.tasks._shift.spec import (MAX_EXAMPLES, MAX_IMAGE_SIZE, MAX_WIDTH, at_most, check_irm, check_weights,
                                          parse_probs, positive)


def check_shortcut(cfg: dict[str, Any]) -> None:
    """Geometry, probabilities and sizes of the synthetic shortcut task."""
    parse_probs("env_probs", cfg["env_probs"])
    parse_probs("ood_prob", cfg["ood_prob"])
    positive(cfg, "image_size", "grid", "cell", "parity_bits", "n_val", "n_ood", "channels", "hidden", "patch")
    at_most(cfg, MAX_IMAGE_SIZE, "pixels", "image_size")
    at_most(cfg, MAX_EXAMPLES, "images", "n_val", "n_ood")
    at_most(cfg, MAX_WIDTH, "units", "channels", "hidden")
    check_irm(cfg)
    size, border = int(cfg["image_size"]), int(cfg["border"])
    if border <= 0 or 2 * border >= size:
        raise GrokError(f"border={border} does not fit {size}-pixel images")
    if int(cfg["grid"]) * int(cfg["cell"]) > size - 2 * border:
        raise GrokError(f"a {cfg['grid']}×{cfg['grid']} grid of {cfg['cell']}-pixel cells does not fit "
                        f"inside a border of {border} on {size}-pixel images")
    if int(cfg["parity_bits"]) > int(cfg["grid"]) ** 2:
        raise GrokError(f"parity_bits={cfg['parity_bits']} is more than the {int(cfg['grid']) ** 2} centre cells")
    if cfg["model"] == "cnn" and size % int(cfg["patch"]):
        raise GrokError(f"image_size={size} is not a multiple of patch={cfg['patch']}")
    check_weights(cfg)

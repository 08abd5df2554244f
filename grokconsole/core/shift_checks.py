"""Pure-Python checks of the distribution-shift tasks' configs, run by ``grok run`` before anything is written.

They catch what would otherwise crash the trainer minutes later: a stain-probability list that
does not parse, images whose geometry does not fit, a Camelyon17 folder that is missing or
incomplete (named precisely, so the user knows what to fix).
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from grokconsole.core.errors import GrokError

CAMELYON_DIR = "camelyon17_v1.0"
CAMELYON_COLUMNS = ("patient", "node", "x_coord", "y_coord", "tumor", "slide", "center", "split")


def parse_probs(key: str, text: Any) -> list[float]:
    """A comma-separated list of probabilities, e.g. ``0.95,0.85``."""
    try:
        probs = [float(p) for p in str(text).split(",") if p.strip()]
    except ValueError:
        probs = []
    if not probs or any(not 0.0 <= p <= 1.0 for p in probs):
        raise GrokError(f"{key}={text!r}: expected comma-separated probabilities in [0, 1], e.g. 0.95,0.85")
    return probs


def _positive(cfg: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if int(cfg[key]) <= 0:
            raise GrokError(f"{key} must be positive, got {cfg[key]}")


def _irm(cfg: dict[str, Any]) -> None:
    if float(cfg["irm_lambda"]) < 0:
        raise GrokError(f"irm_lambda must be ≥ 0, got {cfg['irm_lambda']}")
    if int(cfg["irm_anneal_steps"]) < 0:
        raise GrokError(f"irm_anneal_steps must be ≥ 0, got {cfg['irm_anneal_steps']}")


def check_shortcut(cfg: dict[str, Any]) -> None:
    """Geometry, probabilities and sizes of the synthetic shortcut task."""
    parse_probs("env_probs", cfg["env_probs"])
    parse_probs("ood_prob", cfg["ood_prob"])
    _positive(cfg, "image_size", "grid", "cell", "parity_bits", "n_val", "n_ood", "channels", "hidden", "patch")
    _irm(cfg)
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
    if cfg.get("weights_path") and not Path(str(cfg["weights_path"])).is_file():
        raise GrokError(f"weights file not found: {cfg['weights_path']}")


def check_camelyon_folder(data_dir: Any) -> Path:
    """The ``camelyon17_v1.0`` folder under ``data_dir``, checked; GrokError naming what is missing."""
    if not data_dir:
        raise GrokError("task camelyon17 needs --data-dir DIR, a folder holding camelyon17_v1.0/ "
                        "(the WILDS Camelyon17 v1.0 download; grokconsole never downloads it)")
    root = Path(str(data_dir)).expanduser()
    if not root.is_dir():
        raise GrokError(f"--data-dir {root}: no such folder")
    folder = root / CAMELYON_DIR
    if not folder.is_dir():
        raise GrokError(f"--data-dir {root}: missing {CAMELYON_DIR}/ (the WILDS Camelyon17 v1.0 folder)")
    for name in ("RELEASE_v1.0.txt", "metadata.csv"):
        if not (folder / name).is_file():
            raise GrokError(f"{folder}: missing {name}")
    if not (folder / "patches").is_dir():
        raise GrokError(f"{folder}: missing patches/")
    try:
        with open(folder / "metadata.csv", newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError) as exc:
        raise GrokError(f"{folder / 'metadata.csv'}: unreadable ({exc})") from None
    missing = [c for c in CAMELYON_COLUMNS if c not in header]
    if missing:
        raise GrokError(f"{folder / 'metadata.csv'}: missing column(s) {', '.join(missing)}")
    return folder


def check_camelyon(cfg: dict[str, Any]) -> None:
    """Sizes, IRM keys, the weights file and the data folder of the camelyon17 task."""
    _positive(cfg, "n_eval", "mask_border")
    _irm(cfg)
    if int(cfg["n_test"]) < 0:
        raise GrokError(f"n_test must be ≥ 0 (0: the whole test split), got {cfg['n_test']}")
    if not 0 < 2 * int(cfg["mask_border"]) < 96:
        raise GrokError(f"mask_border={cfg['mask_border']} does not fit 96-pixel patches")
    if cfg.get("weights_path") and not Path(str(cfg["weights_path"])).is_file():
        raise GrokError(f"weights file not found: {cfg['weights_path']}")
    check_camelyon_folder(cfg.get("data_dir"))

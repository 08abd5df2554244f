"""Pure-Python checks of the ``camelyon17`` task's config and data folder, run before anything is written.

A Camelyon17 folder that is missing or incomplete is named precisely, so the user knows what to fix.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.tasks._shift.spec import check_irm, check_weights, positive

CAMELYON_DIR = "camelyon17_v1.0"
CAMELYON_COLUMNS = ("patient", "node", "x_coord", "y_coord", "tumor", "slide", "center", "split")


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
    positive(cfg, "n_eval", "mask_border")
    check_irm(cfg)
    if int(cfg["n_test"]) < 0:
        raise GrokError(f"n_test must be ≥ 0 (0: the whole test split), got {cfg['n_test']}")
    if not 0 < 2 * int(cfg["mask_border"]) < 96:
        raise GrokError(f"mask_border={cfg['mask_border']} does not fit 96-pixel patches")
    check_weights(cfg)
    check_camelyon_folder(cfg.get("data_dir"))

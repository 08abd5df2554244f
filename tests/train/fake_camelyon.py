"""A tiny fake WILDS Camelyon17 folder in the exact on-disk format (for tests only)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

HEADER = ",patient,node,x_coord,y_coord,tumor,slide,center,split"


def make_fake_camelyon(root: Path, per_center: int = 6, seed: int = 0) -> Path:
    """ROOT/camelyon17_v1.0 with ``per_center`` patches for each of the 5 centres; returns ROOT.

    Centres 0, 3, 4 hold train (split 0) and id_val (split 1) rows; wilds moves centre 1 to
    'val' and centre 2 to 'test'. Tumour patches are darker purple, so there is a signal.
    """
    rng = np.random.default_rng(seed)
    folder = root / "camelyon17_v1.0"
    folder.mkdir(parents=True)
    (folder / "RELEASE_v1.0.txt").write_text("fake\n")
    lines = [HEADER]
    row = 0
    for center in range(5):
        patient, node = f"{center * 10 + 4:03d}", center % 5
        slide = center * 2
        patch_dir = folder / "patches" / f"patient_{patient}_node_{node}"
        patch_dir.mkdir(parents=True)
        for k in range(per_center):
            tumor = k % 2
            x, y = 1000 + 96 * k, 2000 + 32 * center
            split = 1 if (center in (0, 3, 4) and k >= per_center - 2) else 0
            base = np.array([200, 120, 200]) if tumor else np.array([230, 190, 220])
            img = np.clip(base + rng.normal(0, 12, (96, 96, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(patch_dir / f"patch_patient_{patient}_node_{node}_x_{x}_y_{y}.png")
            lines.append(f"{row},{patient},{node},{x},{y},{tumor},{slide},{center},{split}")
            row += 1
    (folder / "metadata.csv").write_text("\n".join(lines) + "\n")
    return root

"""WILDS Camelyon17 from a local folder: open it (never download), pick split indices, load patches.

The ``wilds`` package does the parsing (metadata.csv → splits, hospitals, labels, file names);
we add deterministic subsampling and load the chosen 96×96 patches once into uint8 tensors.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.camelyon17.checks import CAMELYON_DIR, check_camelyon_folder

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Evaluation subsets are drawn with a fixed seed, so runs of different seeds score the same patches.
EVAL_SEED = 12345


@dataclass
class Patches:
    """uint8 images (N, 3, 96, 96), labels (N,), hospitals (N,)."""

    x: torch.Tensor
    y: torch.Tensor
    hospital: torch.Tensor


def open_dataset(data_dir: Any) -> Any:
    """The wilds ``Camelyon17Dataset`` of ``data_dir/camelyon17_v1.0`` (checked first, never downloaded)."""
    check_camelyon_folder(data_dir)
    try:
        from wilds.datasets.camelyon17_dataset import Camelyon17Dataset
    except ImportError as exc:
        raise GrokError(f"task camelyon17 needs the `wilds` package (pip install 'grokconsole[wilds]'): {exc}") from None
    try:
        with warnings.catch_warnings():  # wilds wraps a read-only numpy array; harmless
            warnings.simplefilter("ignore", UserWarning)
            return Camelyon17Dataset(root_dir=str(Path(str(data_dir)).expanduser()), download=False)
    except (KeyError, ValueError, FileNotFoundError, OSError) as exc:
        raise GrokError(f"{Path(str(data_dir)) / CAMELYON_DIR}: malformed WILDS Camelyon17 folder "
                        f"({type(exc).__name__}: {exc})") from None


def split_indices(dataset: Any, split: str) -> np.ndarray:
    """Row indices of one split ('train', 'id_val', 'val' (OOD, centre 1), 'test' (OOD, centre 2))."""
    code = dataset.split_dict[split]
    return np.flatnonzero(np.asarray(dataset.split_array) == code)


def subsample(indices: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` of ``indices`` drawn without replacement from ``seed`` (all of them if n ≤ 0 or too many), sorted."""
    if n <= 0 or n >= len(indices):
        return indices
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(indices, size=n, replace=False))


def load_patches(dataset: Any, indices: np.ndarray, workers: int = 0) -> Patches:
    """Read the PNG patches of ``indices`` into one uint8 tensor (with a DataLoader when workers > 0)."""
    if len(indices) == 0:
        raise GrokError("Camelyon17: a split has no patches (check metadata.csv's split and center columns)")
    images = torch.empty((len(indices), 3, 96, 96), dtype=torch.uint8)
    loader = torch.utils.data.DataLoader(_Reader(dataset, indices), batch_size=256, num_workers=workers)
    pos = 0
    for chunk in loader:
        images[pos:pos + len(chunk)] = chunk
        pos += len(chunk)
    meta = dataset.metadata_array[torch.as_tensor(indices)]
    hospital_col = dataset.metadata_fields.index("hospital")
    return Patches(images, dataset.y_array[torch.as_tensor(indices)].long(), meta[:, hospital_col].long())


class _Reader(torch.utils.data.Dataset):
    def __init__(self, dataset: Any, indices: np.ndarray) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> torch.Tensor:
        idx = int(self.indices[i])
        try:
            img = np.asarray(self.dataset.get_input(idx), dtype=np.uint8)
        except OSError as exc:  # FileNotFoundError included
            raise GrokError(f"Camelyon17 patch {self.dataset._input_array[idx]}: {exc}") from None
        if img.shape != (96, 96, 3):
            raise GrokError(f"Camelyon17 patch {self.dataset._input_array[idx]}: expected 96×96 RGB, got {img.shape}")
        return torch.from_numpy(img.copy()).permute(2, 0, 1)


class Normalizer:
    """uint8 (N, 3, H, W) → float, ImageNet-normalised, on the device (channels_last on CUDA)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1) * 255

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = (x.to(self.device, non_blocking=True).float() - self.mean) / self.std
        if self.device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        return x

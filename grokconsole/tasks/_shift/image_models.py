"""Image classifiers for the distribution-shift tasks.

Every model exposes ``features(x)`` (the penultimate representation: the avgpool output for
ResNet-18) and ``head`` (the final linear layer), so feature-rank metrics and later
interventions on the feature space work the same on every model.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class SmallCNN(nn.Module):
    """Patchify conv → 3×3 conv → flatten → one hidden layer (the features) → linear head.

    It keeps the spatial layout up to the hidden layer (no global pooling), so a rule that
    depends on *where* a pattern sits in the image stays learnable.
    """

    def __init__(self, image_size: int, n_classes: int = 2, patch: int = 2, channels: int = 16,
                 hidden: int = 256, in_channels: int = 3) -> None:
        super().__init__()
        if image_size % patch:
            raise ValueError(f"image size {image_size} is not a multiple of the patch size {patch}")
        side = image_size // patch
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, channels, kernel_size=patch, stride=patch), nn.ReLU(),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(channels * side * side, hidden), nn.ReLU(),
        )
        self.head = nn.Linear(hidden, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ResNet18(nn.Module):
    """torchvision's ResNet-18 split into ``body`` (up to avgpool, flattened) and ``head`` (fc)."""

    def __init__(self, n_classes: int = 2, weights_path: str | Path | None = None) -> None:
        super().__init__()
        from torchvision.models import resnet18

        net = resnet18(weights=None, num_classes=n_classes)
        if weights_path:
            load_backbone_weights(net, Path(weights_path))
        self.body = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2,
                                  net.layer3, net.layer4, net.avgpool, nn.Flatten())
        self.head = net.fc

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def load_backbone_weights(net: nn.Module, path: Path) -> None:
    """Load a local torchvision-format state dict; a classifier of another shape is left fresh.

    Never downloads: an ImageNet checkpoint (1000-class fc) gives the backbone, the 2-class
    head starts from scratch.
    """
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    own = net.state_dict()
    keep = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not any(k.startswith("layer") for k in keep):
        raise ValueError(f"{path} holds no ResNet-18 backbone weights (no matching layer* keys)")
    net.load_state_dict(keep, strict=False)


def build_image_model(name: str, image_size: int, n_classes: int = 2, *, channels: int = 16,
                      hidden: int = 256, patch: int = 2, weights_path: str | None = None) -> nn.Module:
    """The model a config names: ``cnn`` (SmallCNN) or ``resnet18``."""
    if name == "resnet18":
        return ResNet18(n_classes, weights_path)
    if name == "cnn":
        return SmallCNN(image_size, n_classes, patch=patch, channels=channels, hidden=hidden)
    raise ValueError(f"unknown image model {name!r}")

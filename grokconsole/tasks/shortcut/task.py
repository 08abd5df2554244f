"""The ``shortcut`` task: synthetic Camelyon-like images with a border-stain shortcut.

Training environments ("hospitals") have stains that agree with the label with probability
``env_probs``; the OOD environment has ``ood_prob`` (reversed). The label is the parity of a
few centre cells, which generalises everywhere. The whole dataset is generated from the seed
and lives on the device as tensors (full batch by default). See
:mod:`grokconsole.tasks.shortcut.images`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import torch
from torch import nn

from grokconsole.tasks._shift.spec import parse_probs
from grokconsole.tasks._shift.image_models import build_image_model
from grokconsole.tasks._shift.irm import erm_or_irm_loss
from grokconsole.tasks._shift.metrics import predict, rank_of, shortcut_metrics, split_metrics, train_metrics
from grokconsole.tasks.shortcut.images import ShortcutSpec, make_split
from grokconsole.tasks.api import Batch, Task, minibatches, n_minibatches

if TYPE_CHECKING:
    from grokconsole.tasks.splits import EvalSplit


def spec_from_config(c: dict[str, Any]) -> ShortcutSpec:
    return ShortcutSpec(image_size=int(c["image_size"]), border=int(c["border"]), grid=int(c["grid"]),
                        cell=int(c["cell"]), parity_bits=int(c["parity_bits"]), noise=float(c["noise"]),
                        stain=float(c["stain"]), contrast=float(c["contrast"]), off=float(c["off"]))


class Shortcut(Task):
    name = "shortcut"

    def __init__(self, config: dict[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        c = config
        self.spec = spec_from_config(c)
        probs = parse_probs("env_probs", c["env_probs"])
        self.env_ids = list(range(len(probs)))
        gen = torch.Generator().manual_seed(int(c["seed"]))
        # Drawn in a fixed order so each split depends only on the seed and its own size.
        train = make_split(int(c["n_train"]), probs, self.env_ids, self.spec, gen)
        val = make_split(int(c["n_val"]), probs, self.env_ids, self.spec, gen)
        ood = make_split(int(c["n_ood"]), [float(c["ood_prob"])], [len(probs)], self.spec, gen)
        self.x_train, self.y_train, self.env_train = (t.to(device) for t in (train.x, train.y, train.env))
        self.x_val, self.y_val = val.x.to(device), val.y.to(device)
        self.x_ood, self.y_ood = ood.x.to(device), ood.y.to(device)
        self.batch_size = int(c["batch_size"]) or len(self.y_train)

    def build_model(self) -> nn.Module:
        c = self.config
        return build_image_model(str(c["model"]), self.spec.image_size, channels=int(c["channels"]),
                                 hidden=int(c["hidden"]), patch=int(c["patch"]),
                                 weights_path=c.get("weights_path"))

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        return minibatches((self.x_train, self.y_train, self.env_train), self.batch_size, generator, self.device)

    def steps_per_epoch(self) -> int:
        return n_minibatches(len(self.y_train), self.batch_size)

    def training_loss(self, model: nn.Module, batch: Batch, step: int) -> torch.Tensor:
        x, y, env = batch
        return erm_or_irm_loss(self.config, model(x), y, env, step)

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        _, train_logits = predict(model, self.x_train)
        val_feats, val_logits = predict(model, self.x_val)
        _, ood_logits = predict(model, self.x_ood)
        return {**train_metrics(train_logits, self.y_train, self.env_train, self.env_ids),
                **split_metrics("val", val_logits, self.y_val),
                **split_metrics("ood", ood_logits, self.y_ood),
                **rank_of(val_feats),
                **shortcut_metrics(model, self.x_val, self.y_val, self.spec.border)}


    def eval_splits(self) -> list[EvalSplit]:
        """train (environments, and the border-stain label an M4 probe should find), val, ood."""
        from grokconsole.tasks.shortcut.images import border_stain_labels
        from grokconsole.tasks.splits import EvalSplit

        stain = border_stain_labels(self.x_train, self.spec.border, self.y_train)
        return [EvalSplit("train", self.x_train, self.y_train, self.env_train, shortcut=stain),
                EvalSplit("val", self.x_val, self.y_val),
                EvalSplit("ood", self.x_ood, self.y_ood, ood=True)]


TASK_CLASS = Shortcut

"""The ``camelyon17`` task: WILDS Camelyon17 tumour patches from a local folder, ResNet-18 by default.

Training hospitals are the IRM environments; ``val_acc`` is the ID validation split,
``ood_acc`` the OOD validation split (centre 1) and the OOD test split (centre 2) is scored
once, into the summary. ``n_train`` patches are drawn from the train split by the seed;
evaluation splits are subsampled to ``n_eval`` with a fixed seed. Patches are loaded once as
uint8 tensors and normalised per batch on the device. On CUDA: bf16 autocast, channels_last.
"""
from __future__ import annotations

import math

import contextlib
from typing import TYPE_CHECKING, Any, Iterator

import torch
from torch import nn

from grokconsole.tasks.camelyon17.data import (EVAL_SEED, Normalizer, Patches, load_patches, open_dataset,
                                             split_indices, subsample)
from grokconsole.tasks._shift.image_models import build_image_model
from grokconsole.tasks._shift.irm import erm_or_irm_loss
from grokconsole.tasks._shift.metrics import predict, rank_of, shortcut_metrics, split_metrics, train_metrics
from grokconsole.tasks.api import Batch, Task

if TYPE_CHECKING:
    from grokconsole.tasks.splits import EvalSplit

EVAL_BATCH = 256


class Camelyon17(Task):
    name = "camelyon17"

    def __init__(self, config: dict[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        c = config
        self.dataset = open_dataset(c["data_dir"])
        self.workers = int(c["workers"])
        n_eval = int(c["n_eval"])
        train_idx = subsample(split_indices(self.dataset, "train"), int(c["n_train"]), int(c["seed"]))
        self.train = self._to_device(load_patches(self.dataset, train_idx, self.workers))
        self.id_val = self._to_device(load_patches(
            self.dataset, subsample(split_indices(self.dataset, "id_val"), n_eval, EVAL_SEED), self.workers))
        self.ood_val = self._to_device(load_patches(
            self.dataset, subsample(split_indices(self.dataset, "val"), n_eval, EVAL_SEED), self.workers))
        # Train accuracy and IRM penalties are measured on a fixed subset of at most n_eval patches.
        self.train_eval = torch.arange(len(self.train.y), device=device)[:n_eval]
        self.env_ids = sorted(int(h) for h in torch.unique(self.train.hospital))
        self.normalize = Normalizer(device)
        self.batch_size = int(c["batch_size"]) or len(self.train.y)
        self.cuda = device.type == "cuda"

    def _to_device(self, p: Patches) -> Patches:
        # Small enough to keep whole on a GPU; on CPU this is a no-op.
        return Patches(p.x.to(self.device), p.y.to(self.device), p.hospital.to(self.device))

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def build_model(self) -> nn.Module:
        c = self.config
        model = build_image_model(str(c["model"]), 96, channels=int(c["channels"]), hidden=int(c["hidden"]),
                                  patch=int(c["patch"]), weights_path=c.get("weights_path"))
        if self.cuda:
            model = model.to(memory_format=torch.channels_last)
        return model

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        n = len(self.train.y)
        order = torch.randperm(n, generator=generator).to(self.device)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.normalize(self.train.x[idx]), self.train.y[idx], self.train.hospital[idx]

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.train.y) / self.batch_size)

    def training_loss(self, model: nn.Module, batch: Batch, step: int) -> torch.Tensor:
        x, y, env = batch
        with self._autocast():
            logits = model(x)
        return erm_or_irm_loss(self.config, logits.float(), y, env, step)

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        with self._autocast():
            sub = self.train_eval
            _, train_logits = predict(model, self.train.x[sub], EVAL_BATCH, self.normalize)
            val_feats, val_logits = predict(model, self.id_val.x, EVAL_BATCH, self.normalize)
            _, ood_logits = predict(model, self.ood_val.x, EVAL_BATCH, self.normalize)
            shortcut = shortcut_metrics(model, self.id_val.x, self.id_val.y, int(self.config["mask_border"]),
                                        0.0, EVAL_BATCH, self.normalize)
        return {**train_metrics(train_logits, self.train.y[sub], self.train.hospital[sub], self.env_ids),
                **split_metrics("val", val_logits, self.id_val.y),
                **split_metrics("ood", ood_logits, self.ood_val.y),
                **rank_of(val_feats), **shortcut}

    @torch.no_grad()
    def final_metrics(self, model: nn.Module) -> dict[str, Any]:
        """Accuracy on the OOD test split (centre 2), ``n_test`` patches (0: all of them)."""
        idx = subsample(split_indices(self.dataset, "test"), int(self.config["n_test"]), EVAL_SEED)
        test = load_patches(self.dataset, idx, self.workers)
        with self._autocast():
            _, logits = predict(model, test.x, EVAL_BATCH, self.normalize)
        out = split_metrics("test", logits, test.y.to(logits.device))
        return {"ood_test_acc": out["test_acc"], "ood_test_loss": out["test_loss"], "n_test": len(idx)}


    def eval_splits(self) -> list[EvalSplit]:
        """train (hospitals as environments), id_val, ood_val (centre 1), read through ``normalize``."""
        from grokconsole.tasks.splits import EvalSplit

        return [EvalSplit(name, p.x, p.y, p.hospital, ood=name == "ood_val", transform=self.normalize)
                for name, p in (("train", self.train), ("id_val", self.id_val), ("ood_val", self.ood_val))]


TASK_CLASS = Camelyon17

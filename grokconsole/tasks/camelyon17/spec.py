"""The ``camelyon17`` task's spec: data folder, ResNet-18 defaults, conditions, metrics, suites."""
from __future__ import annotations

from grokconsole.tasks.spec import TaskSpec
from grokconsole.tasks._shift.spec import SHIFT_CHOICES, SHIFT_DEFAULTS, SHIFT_SPEC_FIELDS
from grokconsole.tasks.camelyon17.checks import check_camelyon

SPEC = TaskSpec(
    name="camelyon17",
    description="WILDS Camelyon17 tumour patches (96×96) from --data-dir, ResNet-18; hospitals are the "
                "environments, centre 1 the OOD val split, centre 2 the OOD test split",
    defaults={
        **SHIFT_DEFAULTS,
        "data_dir": None,  # the WILDS Camelyon17 folder (`grok run --data-dir DIR`)
        "n_train": 10000, "epochs": 30, "eval_every": 1, "lr": 1e-3, "batch_size": 32,
        "model": "resnet18", "channels": 16, "hidden": 128, "patch": 8,
        "n_eval": 2000, "n_test": 0, "mask_border": 16, "workers": 0,
    },
    conditions={
        "grokking": {"weight_decay": 0.1, "epochs": 100, "n_train": 2000},
        "standard": {"optimizer": "sgd", "lr": 1e-3, "weight_decay": 0.01, "epochs": 10,
                     "early_stopping_patience": 3, "early_stopping_metric": "val_acc"},
    },
    choices={"model": ("resnet18", "cnn"), **SHIFT_CHOICES},
    validate=check_camelyon,
    **SHIFT_SPEC_FIELDS,
)

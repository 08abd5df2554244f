"""The ``shortcut`` task's spec: the image geometry and environments, conditions, metrics, suites."""
from __future__ import annotations

from grokconsole.tasks.spec import TaskSpec
from grokconsole.tasks._shift.spec import SHIFT_CHOICES, SHIFT_DEFAULTS, SHIFT_SPEC_FIELDS
from grokconsole.tasks.shortcut.checks import check_shortcut

SPEC = TaskSpec(
    name="shortcut",
    description="synthetic Camelyon-like images: centre parity (the signal) vs a border stain that is a "
                "shortcut in the training hospitals and reversed in the OOD one",
    defaults={
        **SHIFT_DEFAULTS,
        "n_train": 1000, "epochs": 1500, "eval_every": 20, "lr": 2e-3, "batch_size": 0,
        "model": "cnn", "channels": 16, "hidden": 128, "patch": 2,
        "image_size": 16, "border": 3, "grid": 4, "cell": 2, "parity_bits": 3,
        "noise": 0.2, "stain": 1.0, "contrast": 2.0, "off": 0.0,
        "env_probs": "0.95,0.85", "ood_prob": 0.1, "n_val": 1000, "n_ood": 1000,
    },
    conditions={
        # Stops 100 epochs after grokking is confirmed, to keep a run within ~3 CPU minutes.
        "grokking": {"weight_decay": 2.0, "stop_after_grokking": 100},
        "standard": {"weight_decay": 0.01, "epochs": 800, "early_stopping_patience": 10},
    },
    choices={"model": ("cnn", "resnet18"), **SHIFT_CHOICES},
    max_n_train=lambda cfg: 1_000_000,
    validate=check_shortcut,
    **SHIFT_SPEC_FIELDS,
    default=True,
)

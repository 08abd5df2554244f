"""Task registry: a task module is imported only when a run of it starts."""
from __future__ import annotations

import importlib
from typing import Any

import torch

from grokconsole.core.presets import task_spec
from grokconsole.train.tasks.base import Task


def make_task(config: dict[str, Any], device: torch.device) -> Task:
    """Build the task named in ``config['task']``."""
    spec = task_spec(config["task"])
    module = importlib.import_module(f"grokconsole.train.tasks.{spec.module}")
    return module.TASK_CLASS(config, device)

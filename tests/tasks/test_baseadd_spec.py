"""The baseadd spec: torch-free validation with one clear error, metrics for every slice."""
from __future__ import annotations

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.config import resolve_config
from grokconsole.tasks.registry import task_spec
from grokconsole.tasks.baseadd.data import build_run_data, slice_key


@pytest.mark.parametrize("sets, message", [
    ("base=1", "base must be in 2..16"),
    ("n_digits=0", "n_digits must be"),
    ("n_train=5000", "is more than"),
    ("eval_bases=8,x", "comma-separated"),
    ("finetune=qlora", "not one of"),
    ("lora_dropout=1.5", "lora_dropout"),
])
def test_bad_settings(sets: str, message: str) -> None:
    with pytest.raises(GrokError, match=message):
        resolve_config("baseadd", "standard", sets=[sets])


def test_spec_declares_every_logged_column() -> None:
    spec = task_spec("baseadd")
    keys = {m.key for m in spec.metrics}
    cfg = resolve_config("baseadd", "grokking", sets=["eval_size=5 n_val=10"])
    data = build_run_data(cfg)
    assert {slice_key(b, d) for b, d in data.slices} <= keys
    assert {"train_loss", "val_loss", "train_acc", "val_acc", "ood_acc"} <= keys
    assert spec.unit == "steps" and spec.can("generate") and cfg["n_train"] == 300 and cfg["init"] == "scratch"
    assert not {(p.x, p.y) for p in data.train} & {(p.x, p.y) for p in data.val}

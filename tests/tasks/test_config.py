"""Condition presets and --set overrides: resolution order and validation."""
from __future__ import annotations

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.config import CONDITION_PRESETS, parse_set_options, preset_task, resolve_config
from grokconsole.tasks.registry import all_specs, presets


def test_conditions_differ_as_documented() -> None:
    grok = resolve_config("modarith", "grokking")
    std = resolve_config("modarith", "standard")
    assert grok["weight_decay"] > 10 * std["weight_decay"]
    assert grok["early_stopping_patience"] == 0
    assert std["early_stopping_patience"] > 0
    assert grok["lr_schedule"] == "constant"
    assert set(CONDITION_PRESETS) == {"grokking", "standard"}


def test_resolution_order() -> None:
    cfg = resolve_config("modarith", "grokking", explicit={"n_train": 500, "seed": 3, "epochs": None},
                         sets=["lr=0.01", "weight_decay=0.5 model=transformer"])
    assert (cfg["n_train"], cfg["seed"], cfg["lr"], cfg["weight_decay"], cfg["model"]) == (500, 3, 0.01, 0.5, "transformer")
    assert cfg["epochs"] == resolve_config("modarith", "grokking")["epochs"]  # None means "not given"
    # --set beats explicit flags
    assert resolve_config("modarith", "grokking", explicit={"n_train": 500}, sets=["n_train=600"])["n_train"] == 600


@pytest.mark.parametrize("sets, message", [
    (["nope=1"], "unknown key"),
    (["lr=abc"], "expected a number"),
    (["epochs=1.5"], "expected an integer"),
    (["layernorm=maybe"], "expected true or false"),
    (["op=pow"], "not one of"),
    (["lr"], "expected key=value"),
    (["n_train=0"], "positive"),
    (["n_train=100000"], "at most"),
    (["lr=-1"], "positive"),
])
def test_bad_sets(sets: list[str], message: str) -> None:
    with pytest.raises(GrokError, match=message):
        resolve_config("modarith", "grokking", sets=sets)


def test_unknown_task_condition_preset() -> None:
    with pytest.raises(GrokError, match="unknown task"):
        resolve_config("nope", "grokking")
    with pytest.raises(GrokError, match="unknown condition"):
        resolve_config("modarith", "fast")
    with pytest.raises(GrokError, match="unknown preset"):
        resolve_config("modarith", "grokking", preset="nope")


def test_parse_set_options_accepts_dashes_and_multiple() -> None:
    assert parse_set_options(["a=1 b-c=2", "d=x=y"]) == [("a", "1"), ("b_c", "2"), ("d", "x=y")]


def test_every_task_spec_resolves_under_both_conditions(tmp_path) -> None:
    from tests.train.fake_camelyon import make_fake_camelyon

    data = {"data_dir": str(make_fake_camelyon(tmp_path))}  # camelyon17 checks its data folder
    for name in all_specs():
        for cond in ("grokking", "standard"):
            cfg = resolve_config(name, cond, explicit=data if name == "camelyon17" else None)
            assert cfg["task"] == name and cfg["condition"] == cond and cfg["n_train"] > 0
    for name, (task, _bundle) in presets().items():
        resolve_config(task, "grokking", preset=name, explicit=data if task == "camelyon17" else None)


def test_named_preset_belongs_to_its_task() -> None:
    assert preset_task("grokfast") == "modarith"
    cfg = resolve_config("modarith", "grokking", preset="grokfast")
    assert (cfg["op"], cfg["arch"], cfg["preset"]) == ("mul", "grokfast", "grokfast")
    with pytest.raises(GrokError, match="is for task 'modarith'"):
        resolve_config("shortcut", "grokking", preset="grokfast")

"""Grouping by what differs: only seeds are averaged; the task always tells groups apart."""
from __future__ import annotations

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.views.grouping import (differing_keys, format_value, group_items, is_bookkeeping, parse_group_by,
                                       settings_of)


def run(name: str, task: str = "modarith", condition: str = "grokking", n_train: int = 500, seed: int = 0,
        **config: object) -> dict:
    base = {"run_id": name, "task": task, "condition": condition, "n_train": n_train, "seed": seed, "lr": 1e-3,
            "created": f"2026-12-01T00:00:0{seed}", "command_line": ["grok", "run", name], "git_commit": name,
            "device_resolved": "cpu", "threads": seed + 1, "sweep": "s", "sweep_point": {"i": seed}}
    return {"name": name, "settings": settings_of({**base, **config}, task=task, condition=condition,
                                                  n_train=n_train)}


def grouped(runs: list[dict], group_by: tuple[str, ...] | None = None) -> list[tuple[dict, list[str]]]:
    g = group_items(runs, lambda r: r["settings"], group_by)
    return [(dict(key.items), [r["name"] for r in members]) for key, members in g.groups]


def test_bookkeeping_and_seed_never_split_a_group() -> None:
    assert all(is_bookkeeping(k) for k in ("seed", "run_id", "created", "git_commit", "sweep_point.i", "threads"))
    assert not any(is_bookkeeping(k) for k in ("lr", "task", "model", "weights_path", "epochs"))
    runs = [run("a", seed=0), run("b", seed=1), run("c", seed=2)]
    assert differing_keys([r["settings"] for r in runs]) == []
    assert grouped(runs) == [({"task": "modarith"}, ["a", "b", "c"])]


def test_runs_differing_in_task_lr_and_seed() -> None:
    runs = [run("m-lr1-s0"), run("m-lr1-s1", seed=1), run("m-lr3-s0", lr=3e-3), run("m-lr3-s1", seed=1, lr=3e-3),
            run("s-lr1-s0", task="shortcut"), run("s-lr1-s1", task="shortcut", seed=1)]
    assert differing_keys([r["settings"] for r in runs]) == ["task", "lr"]
    assert grouped(runs) == [
        ({"task": "modarith", "lr": 0.001}, ["m-lr1-s0", "m-lr1-s1"]),
        ({"task": "modarith", "lr": 0.003}, ["m-lr3-s0", "m-lr3-s1"]),
        ({"task": "shortcut", "lr": 0.001}, ["s-lr1-s0", "s-lr1-s1"])]
    g = group_items(runs, lambda r: r["settings"])
    assert g.named == ("task", "lr")
    assert g.groups[1][0].label(g.named) == "modarith, lr=0.003"
    assert g.groups[1][0].slug() == "modarith_0.003"


def test_group_by_overrides_but_keeps_the_task() -> None:
    runs = [run("a", lr=1e-3), run("b", lr=3e-3, condition="standard"), run("c", task="shortcut", lr=3e-3)]
    assert grouped(runs, ("lr",)) == [({"task": "modarith", "lr": 0.001}, ["a"]),
                                      ({"task": "modarith", "lr": 0.003}, ["b"]),
                                      ({"task": "shortcut", "lr": 0.003}, ["c"])]
    # Runs that differ only in a key left out of --group-by (here the condition) are averaged.
    same_lr = [run("a"), run("b", condition="standard")]
    assert grouped(same_lr, ("lr",)) == [({"task": "modarith", "lr": 0.001}, ["a", "b"])]
    assert grouped(same_lr) == [({"task": "modarith", "condition": "grokking"}, ["a"]),
                                ({"task": "modarith", "condition": "standard"}, ["b"])]


def test_missing_key_and_none_agree_and_groups_sort_numerically() -> None:
    runs = [run("a", n_train=1000), run("b", n_train=200, data_path=None), run("c", n_train=200)]
    assert grouped(runs) == [({"task": "modarith", "n_train": 200}, ["b", "c"]),
                             ({"task": "modarith", "n_train": 1000}, ["a"])]
    nested = [run("a", model={"depth": 2}), run("b", model={"depth": 3})]
    assert differing_keys([r["settings"] for r in nested]) == ["model.depth"]


def test_bad_group_by() -> None:
    assert parse_group_by(None) is None
    assert parse_group_by(" lr, n_train ,lr") == ("lr", "n_train")
    with pytest.raises(GrokError, match="bad --group-by"):
        parse_group_by(" , ")
    with pytest.raises(GrokError, match="--group-by seed"):
        parse_group_by("seed")
    with pytest.raises(GrokError, match="--group-by lrr: no selected run has this setting"):
        group_items([run("a")], lambda r: r["settings"], ("lrr",))
    assert group_items([run("a")], lambda r: r["settings"], ("lrr",), strict=False).keys == ("task", "lrr")


def test_format_value() -> None:
    assert [format_value(v) for v in (0.001, 1e-5, 3.0, True, None, "x", 500)] == \
        ["0.001", "1e-05", "3", "true", "—", "x", "500"]


def test_a_former_common_key_a_task_never_read_does_not_split_its_runs() -> None:
    """Older LLM runs hold ``model: mlp`` (once a key of every task), newer ones do not: same group.
    A task that reads ``model`` keeps it as a setting."""
    runs = [run("old", task="baseadd", model="mlp"), run("new", task="baseadd", seed=1)]
    assert differing_keys([r["settings"] for r in runs]) == []
    assert grouped(runs) == [({"task": "baseadd"}, ["old", "new"])]
    modarith = [run("mlp", model="mlp"), run("tf", model="transformer")]
    assert differing_keys([r["settings"] for r in modarith]) == ["model"]
    assert run("other", task="no-such-task", model="mlp")["settings"]["model"] == "mlp"

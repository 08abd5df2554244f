"""Sweep files: parsing, expansion, deterministic names, and validation before anything is created."""
from __future__ import annotations

from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.launch.sweepeval import plan_eval
from grokconsole.launch.sweepfile import expand, load_sweep, parse_sweep, prepare_points, run_tail
from tests.launch.helpers import write_sweep


def test_expand_is_the_cartesian_product_in_file_order(tmp_path: Path) -> None:
    spec = load_sweep(write_sweep(tmp_path / "s.toml", "g", {"condition": ["grokking", "standard"],
                                                             "seed": [0, 1, 2], "lr": [0.01]}))
    points = expand(spec, tmp_path / "runs")
    assert len(points) == 6
    assert [p.values for p in points[:2]] == [{"condition": "grokking", "seed": 0, "lr": 0.01},
                                              {"condition": "grokking", "seed": 1, "lr": 0.01}]
    prepared = prepare_points(points)
    assert prepared[4].config["condition"] == "standard" and prepared[4].config["seed"] == 1
    assert prepared[4].config["lr"] == 0.01 and prepared[4].config["p"] == 23
    assert prepared[4].config["sweep"] == "g" and prepared[4].config["sweep_point"]["seed"] == 1
    assert prepared[4].name == "g-condition=standard-seed=1-lr=0.01"
    assert not (tmp_path / "runs").exists()


def test_run_names_are_deterministic_and_bounded() -> None:
    assert run_tail("s", {"seed": 1}) == run_tail("s", {"seed": 1}) == "s-seed=1"
    assert run_tail("s", {"model": "a/b c"}) == "s-model=a_b_c"
    long = run_tail("s", {f"key{i}": "x" * 20 for i in range(8)})
    assert len(long) <= 100 and long.startswith("s-p")
    assert long != run_tail("s", {f"key{i}": "y" * 20 for i in range(8)})


@pytest.mark.parametrize("data, message", [
    ({"task": "modarith"}, "name"),
    ({"name": "a/b"}, "invalid run name"),
    ({"name": "x", "epochz": 3}, "unknown key 'epochz' at the top level"),
    ({"name": "x", "grid": {"seed": 3}}, "must be a non-empty list"),
    ({"name": "x", "grid": {"seed": []}}, "must be a non-empty list"),
    ({"name": "x", "grid": {"seed": [1, 1]}}, "twice"),
    ({"name": "x", "grid": {"seed": [{"a": 1}]}}, "values must be"),
    ({"name": "x", "set": {"lr": [1]}}, "single value"),
    ({"name": "x", "grid": {"lr": [1.0]}, "set": {"lr": 2.0}}, "both in [set]"),
    ({"name": "x", "slurm": {"time_min": -5}}, "time_min must be a positive number"),
    ({"name": "x", "slurm": {"partitions": "gpu"}}, "unknown key 'partitions'"),
])
def test_bad_files_fail_with_one_line(data: dict, message: str) -> None:
    with pytest.raises(GrokError, match=message.replace("[", r"\[")):
        parse_sweep(data)


@pytest.mark.parametrize("grid, message", [
    ({"seed": [0, 1], "lr": [0.01, "fast"]}, r"point 1 \(seed=0 lr=fast\).*lr=fast: expected a number"),
    ({"seed": [0], "optimizer": ["adamw", "lion"]}, r"point 1 \(seed=0 optimizer=lion\).*not one of"),
    ({"seed": [0], "n_train": [100, 10**9]}, r"point 1 \(seed=0 n_train=1000000000\).*more than"),
    ({"seed": [0], "nonsense_key": [1]}, r"point 0 \(seed=0 nonsense_key=1\).*unknown key"),
])
def test_a_bad_point_is_named_before_anything_is_created(tmp_path: Path, grid: dict, message: str) -> None:
    spec = load_sweep(write_sweep(tmp_path / "s.toml", "bad", grid))
    with pytest.raises(GrokError, match=message):
        prepare_points(expand(spec, tmp_path / "runs"))
    assert not (tmp_path / "runs").exists()


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(GrokError, match="no sweep file"):
        load_sweep(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("name = \n")
    with pytest.raises(GrokError, match="not valid TOML"):
        load_sweep(tmp_path / "bad.toml")


SHIPPED = sorted((Path(__file__).resolve().parents[2] / "commands").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_sweep_files_validate(path: Path, tmp_path: Path) -> None:
    """Every sweep file in commands/ expands, every point passes the launch checks and the
    evaluation stage, where there is one, passes grok eval's."""
    spec = load_sweep(path)
    prepared = prepare_points(expand(spec, tmp_path / "runs"))
    assert prepared and all(p.config["sweep"] == spec.name for p in prepared)
    if spec.eval is not None:
        plan = plan_eval(spec.eval, [p.config for p in prepared], tmp_path / "runs", spec.where)
        assert plan.run_request.suites
    assert not (tmp_path / "runs").exists()


def test_the_shipped_sweep_files_are_found() -> None:
    assert {"modarith.toml", "expert_iteration.toml", "base_addition.toml"} <= {p.name for p in SHIPPED}


def test_base_addition_is_the_seed_003_plan(tmp_path: Path) -> None:
    """Bases 8/9/10 × CoT or not, evaluated at 2/3/4 digits at the last checkpoint; the untuned
    model's accuracy and k-shot curves with both kinds of demonstrations."""
    spec = load_sweep(Path(__file__).resolve().parents[2] / "commands" / "base_addition.toml")
    prepared = prepare_points(expand(spec, tmp_path / "runs"))
    assert sorted((p.config["base"], p.config["cot"]) for p in prepared) == [
        (b, c) for b in (8, 9, 10) for c in (False, True)]
    assert {p.config["eval_digits"] for p in prepared} == {"2,3,4"}
    plan = plan_eval(spec.eval, [p.config for p in prepared], tmp_path / "runs", spec.where)
    assert plan.run_request.suites == ("accuracy",) and plan.run_request.checkpoints.kind == "last"
    (base,) = plan.base
    assert base.model_path is None and base.request.suites == ("accuracy", "icl")
    assert base.request.generation.shots == (1, 2, 3, 4, 5, 6, 8, 10, 12, 16)
    assert base.request.generation.icl_demos == "both"
    assert not (tmp_path / "runs").exists()

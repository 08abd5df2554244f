"""Parsing and checking eval requests, and reading results, without torch."""
from __future__ import annotations

from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.evals.request import DEFAULT_ALPHAS, CheckpointSpec, check_checkpoints, parse_alphas, parse_checkpoints, parse_interventions, resolve_epochs, resolve_suites
from grokconsole.runs.evalfiles import eval_status, load_suite_tables
from grokconsole.runs.jsonio import write_json_atomic
from grokconsole.runs.folder import RunPaths


def test_parse_checkpoints() -> None:
    assert parse_checkpoints("all") == CheckpointSpec("all")
    assert parse_checkpoints(" LAST ") == CheckpointSpec("last")
    assert parse_checkpoints("300,step_100,100") == CheckpointSpec("steps", (100, 300))
    assert parse_checkpoints("100,300").as_arg() == "100,300"
    assert parse_checkpoints("e5,epoch7,200") == CheckpointSpec("steps", (200,), (5, 7))
    for bad in ("", "first", "1,,2", "-5", "1.5", "e", "ex5", "step_e5"):
        with pytest.raises(GrokError, match="bad --checkpoints"):
            parse_checkpoints(bad)


def test_parse_interventions_and_alphas() -> None:
    assert parse_interventions(None) == ()
    assert parse_interventions("M5, m4,m5") == ("m5", "m4")
    with pytest.raises(GrokError):
        parse_interventions("m4,m6")
    assert parse_alphas(None) == DEFAULT_ALPHAS
    assert parse_alphas("-1.5,0,2") == (-1.5, 0.0, 2.0)
    for bad in ("a", "1,nan", ","):
        with pytest.raises(GrokError, match="bad --alphas"):
            parse_alphas(bad)


def test_resolve_suites() -> None:
    assert resolve_suites("modarith", None) == ("operand_acc", "operand_loss")
    assert resolve_suites("shortcut", ["env_conf", "env_conf"]) == ("env_conf",)
    with pytest.raises(GrokError, match="unknown suite"):
        resolve_suites("modarith", ["env_acc"])
    with pytest.raises(GrokError, match="no evaluation suites"):
        resolve_suites("custom", None)


def test_check_checkpoints(tmp_path: Path) -> None:
    run = RunPaths(tmp_path / "r")
    run.checkpoints.mkdir(parents=True)
    with pytest.raises(GrokError, match="no checkpoints"):
        check_checkpoints(run, CheckpointSpec("all"))
    (run.checkpoints / "step_10.pt").write_bytes(b"")
    check_checkpoints(run, CheckpointSpec("steps", (10,)))
    with pytest.raises(GrokError, match="kept steps: 10"):
        check_checkpoints(run, CheckpointSpec("steps", (10, 20)))
    assert eval_status(run) is None


def test_load_suite_tables_reads_steps_slices_and_domains(tmp_path: Path) -> None:
    for step, v in ((200, 0.5), (100, 0.25)):
        write_json_atomic(tmp_path / "by_checkpoint" / f"step_{step}" / "acc.json", {
            "metric": "accuracy", "direction": "higher",
            "results": {"a": {"value": v, "n": 4, "domain": "d1"}, "b": {"value": None, "n": 0}}})
    (tmp_path / "by_checkpoint" / "notes").mkdir()
    table = load_suite_tables(tmp_path)["acc"]
    assert table.steps == [100, 200] and table.slices == ["a", "b"]
    assert table.values[200]["a"] == 0.5 and table.values[100]["b"] != table.values[100]["b"]  # NaN
    assert table.domains == {"a": "d1", "b": "all"} and table.counts["a"] == 4
    (tmp_path / "by_checkpoint" / "step_100" / "acc.json").write_text("{oops")
    with pytest.raises(GrokError, match="malformed JSON"):
        load_suite_tables(tmp_path)


def test_epochs_resolve_to_steps_through_the_history(tmp_path: Path) -> None:
    run = RunPaths(tmp_path / "r")
    run.results.mkdir(parents=True)
    run.history.write_text('{"epoch": 0, "step": 0}\n{"epoch": 5, "step": 40}\n{"epoch": 10, "step": 80}\n')
    spec = resolve_epochs(run, parse_checkpoints("e10,e5,8"))
    assert spec == CheckpointSpec("steps", (8, 40, 80)) and spec.as_arg() == "8,40,80"
    with pytest.raises(GrokError, match="no history row at epoch 7"):
        resolve_epochs(run, parse_checkpoints("e7"))
    with pytest.raises(ValueError):
        CheckpointSpec("steps", (), (5,)).as_arg()
    assert resolve_epochs(run, CheckpointSpec("all")) == CheckpointSpec("all")

"""Text from arguments and run folders is data: never Rich markup, never terminal control."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.cli.common import markup, visible
from tests.conftest import write_finished_run

runner = CliRunner()
ESC = "\x1b"
CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
RED = "\x1b[31m"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("args, shown", [
    (["show", "x[/]"], "no run 'x[/]'"),
    (["show", "[bold red]x"], "no run '[bold red]x'"),
    (["run", "--set", "lr=[/]", "--dry-run"], "--set lr=[/]: expected a number"),
    (["run", "--task", "[/]", "--dry-run"], "unknown task '[/]'"),
    (["run", "--task", "[bold red]x", "--dry-run"], "unknown task '[bold red]x'"),
    (["ls", "--runs-dir", "no[/]pe"], "no runs folder no[/]pe"),
    (["show", ":smile:"], "no run ':smile:'"),
])
def test_argument_with_markup_is_one_plain_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      args: list[str], shown: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    res = invoke(*args, *([] if "--runs-dir" in args else ["--runs-dir", "runs"]))
    assert res.exit_code == 2, res.output
    assert shown in res.output
    assert len(lines(res.output)) == 1


def test_sweep_value_with_markup_and_the_grid_hint_are_shown_as_written(tmp_path: Path) -> None:
    bad_value = tmp_path / "value.toml"
    bad_value.write_text('name = "s"\ntask = "modarith"\n[grid]\ncondition = ["[/]"]\n')
    res = invoke("sweep", str(bad_value), "--runs-dir", str(tmp_path / "runs"), "--dry-run")
    assert res.exit_code == 2, res.output
    assert "'[/]'" in res.output and len(lines(res.output)) == 1
    unknown_key = tmp_path / "key.toml"
    unknown_key.write_text('name = "s"\ntask = "modarith"\nlr = 1\n')
    res = invoke("sweep", str(unknown_key), "--runs-dir", str(tmp_path / "runs"), "--dry-run")
    assert res.exit_code == 2, res.output
    assert "(config keys go in [set] or [grid])" in " ".join(res.output.split())
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def _hostile_run(runs: Path) -> Path:
    root = write_finished_run(runs, "r1", [{"epoch": 1, "train_acc": 1.0, "val_acc": 0.5, "note": TITLE}],
                              config={"condition": f"grok{CLEAR}", "label": "[bold red]loud", "tag": f"{RED}red"})
    state = json.loads((root / "run.json").read_text())
    (root / "run.json").write_text(json.dumps({**state, "host": f"evil{TITLE}"}))
    (root / "results" / "summary.json").write_text(json.dumps(
        {"status": "finished", "epoch": 1, "end_reason": f"done{CLEAR}[/]", "target_metric": "[red]x[/]"}))
    (root / "results" / "events.jsonl").write_text(json.dumps(
        {"event": f"note{RED}", "epoch": 1, "why": f"[/]{CLEAR}"}) + "\n")
    return root


def test_show_prints_control_characters_as_escapes_and_markup_as_text(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _hostile_run(runs)
    res = invoke("show", "r1", "--runs-dir", str(runs))
    assert res.exit_code == 0, res.output
    assert ESC not in res.output and "\x07" not in res.output
    flat = "".join(res.output.split())
    for shown in ("evil\\x1b]0;pwned\\x07", "grok\\x1b[2J\\x1b[H", "[boldred]loud", "\\x1b[31mred",
                  "done\\x1b[2J\\x1b[H[/]", "[red]x[/]", "note\\x1b[31m"):
        assert shown in flat, shown


def test_ls_prints_control_characters_as_escapes(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _hostile_run(runs)
    write_finished_run(runs, "r2[bold]", [{"epoch": 1}], config={"task": f"mod{TITLE}"})
    res = invoke("ls", "--runs-dir", str(runs))
    assert res.exit_code == 0, res.output
    assert ESC not in res.output and "\x07" not in res.output
    assert "grok\\x1b[2J\\x1b[H" in res.output
    assert "r2[bold]" in res.output and "mod\\x1b]0;pwned\\x07" in res.output


def test_runs_dir_with_escape_is_shown_visibly(tmp_path: Path) -> None:
    res = invoke("ls", "--runs-dir", str(tmp_path / f"no{CLEAR}"))
    assert res.exit_code == 2
    assert ESC not in res.output and "no\\x1b[2J" in res.output


def test_markup_fills_values_as_text() -> None:
    text = markup("[bold]{a}[/] {b}", a="[/]x\\", b=f":smile: {ESC}[2J")
    assert text.plain == "[/]x\\ :smile: \\x1b[2J"
    assert visible("tab\there\x9b") == "tab\\x09here\\x9b"

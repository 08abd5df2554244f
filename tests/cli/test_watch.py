"""``grok watch`` on the command line: bad input is one line and exit 2; the app gets the right runs."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from tests.tui.fakeruns import make_run

runner = CliRunner()


@pytest.fixture
def launched(monkeypatch) -> list:
    """Replace the Textual app's run() so no TUI starts."""
    from grokconsole.tui import app as tui_app

    calls: list = []
    monkeypatch.setattr(tui_app.WatchApp, "run", lambda self: calls.append(self))
    return calls


@pytest.mark.parametrize("args, message", [
    (["--refresh", "0"], "--refresh must be between"),
    (["--refresh", "-1"], "--refresh must be between"),
    (["--runs-dir", "missing"], "no runs folder missing"),
    (["nope", "--runs-dir", "RUNS"], "no run 'nope'"),
    (["some/where", "--runs-dir", "RUNS"], "no run folder some/where"),
    (["--runs-dir", "RUNS", "--group-by", "lr,nope"], "--group-by nope: no selected run has this setting"),
    (["--runs-dir", "RUNS", "--group-by", "seed"], "--group-by seed"),
])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, launched: list, args: list[str], message: str) -> None:
    make_run(tmp_path, "20260101-000000-a")
    args = [str(tmp_path) if a == "RUNS" else a for a in args]
    result = runner.invoke(app, ["watch", *args])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())  # rich wraps long lines
    assert message in text and text.count("error:") == 1 and "Traceback" not in text
    assert launched == []


def test_runs_dir_is_a_file(tmp_path: Path, launched: list) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    result = runner.invoke(app, ["watch", "--runs-dir", str(f)])
    assert result.exit_code == 2 and "is not a folder" in " ".join(result.output.split())


def test_starts_the_app_with_selected_runs(tmp_path: Path, launched: list) -> None:
    for name in ("20260101-000000-grokking", "20260101-000001-standard"):
        make_run(tmp_path, name)
    result = runner.invoke(app, ["watch", "*grokking*", "--runs-dir", str(tmp_path), "--refresh", "2"])
    assert result.exit_code == 0, result.output
    (watch_app,) = launched
    assert watch_app.refresh_s == 2.0
    assert [v.run_id for v in watch_app.watcher.start()] == ["20260101-000000-grokking"]
    assert watch_app.spec.group_by is None
    result = runner.invoke(app, ["watch", "--runs-dir", str(tmp_path), "--group-by", "lr, condition"])
    assert result.exit_code == 0, result.output
    assert launched[-1].spec.group_by == ("lr", "condition")


def test_env_runs_dir_and_help(tmp_path: Path, launched: list, monkeypatch) -> None:
    make_run(tmp_path, "r")
    monkeypatch.setenv("GROK_RUNS_DIR", str(tmp_path))
    assert runner.invoke(app, ["watch"]).exit_code == 0
    assert launched[0].runs_dir == tmp_path
    assert "watch" in runner.invoke(app, ["--help"]).output


def test_a_console_that_ends_on_an_error_exits_non_zero(tmp_path: Path, monkeypatch) -> None:
    from grokconsole.tui import app as tui_app

    make_run(tmp_path, "20260101-000000-a")

    def crashed(self) -> None:  # noqa: ANN001 - what Textual records when the app dies on an exception
        self._return_code = 1

    monkeypatch.setattr(tui_app.WatchApp, "run", crashed)
    result = runner.invoke(app, ["watch", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 1


def test_an_unreadable_runs_folder_is_exit_2(launched: list) -> None:
    from tests.isolated import in_child, need_unprivileged_user, shared_tmp

    user = need_unprivileged_user()
    for shared in shared_tmp():
        runs = shared / "runs"
        make_run(runs, "20260101-000000-a")
        runs.chmod(0o311)  # can be entered, not listed
        runner.invoke(app, ["watch", "--runs-dir", str(shared / "missing")])  # imports what the child needs
        code, out = in_child(lambda: (lambda r: (r.exit_code, r.output))(
            runner.invoke(app, ["watch", "--runs-dir", str(runs)])), user=user)
        text = " ".join(out.split())
        assert code == 2 and ("not readable" in text or "permission denied" in text) and "Traceback" not in text
        assert launched == []

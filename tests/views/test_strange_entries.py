"""Readers on a runs folder holding entries they cannot use: each is named and skipped, nothing hangs.

The permission cases run in a forked child as the ``nobody`` user (root reads everything);
every reader runs under a deadline, so a FIFO that would block fails the test instead of
hanging the suite.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.runs.discovery import last_row, load_run, scan_runs_dir
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.safeio import Unreadable, read_bytes
from grokconsole.runs.tail import JsonlTail
from grokconsole.figures.data import load_run_data
from grokconsole.figures.export import _select
from grokconsole.figures.work import load_all
from tests.isolated import in_child, need_unprivileged_user, shared_tmp
from tests.tui.fakeruns import make_run

runner = CliRunner()
GOOD = "20260101-000001-good"
NOPERM = "20260101-000002-noperm"
LOOP = "20260101-000003-loop"
NORESULTS = "20260101-000004-noresults"
NOEVENTS = "20260101-000005-noevents"
EVENTSDIR = "20260101-000006-eventsdir"
FIFO = "20260101-000007-fifo"
SUMMARYDIR = "20260101-000008-summarydir"


def build_strange(runs: Path, *, permissions: bool) -> None:
    """One good run and one run (or entry) per kind of trouble."""
    make_run(runs, GOOD)
    os.symlink(LOOP, runs / LOOP)  # a link to itself
    d = make_run(runs, EVENTSDIR)
    (d / "results" / "events.jsonl").mkdir()
    d = make_run(runs, FIFO)
    (d / "results" / "summary.json").unlink()
    os.mkfifo(d / "results" / "summary.json")
    (d / "logs" / "stdout.log").unlink(missing_ok=True)
    os.mkfifo(d / "logs" / "stdout.log")
    (d / "eval").mkdir()
    os.mkfifo(d / "eval" / "run.json")  # a `grok eval` job's record
    d = make_run(runs, SUMMARYDIR)
    (d / "results" / "summary.json").unlink()
    (d / "results" / "summary.json").mkdir()
    if permissions:
        make_run(runs, NOPERM).chmod(0)
        (make_run(runs, NORESULTS) / "results").chmod(0)
        d = make_run(runs, NOEVENTS)
        (d / "results" / "events.jsonl").write_text('{"event": "memorization", "epoch": 40}\n')
        (d / "results" / "events.jsonl").chmod(0)


@pytest.fixture
def shared() -> Iterator[Path]:
    yield from shared_tmp()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "250"})


def result(res) -> tuple[int, str]:  # noqa: ANN001
    return res.exit_code, res.output


def warm_up(runs: Path) -> None:
    """Run every command once here, so the child imports nothing lazily (as nobody it might not be able to)."""
    make_run(runs / "warm", GOOD)
    for args in (["ls"], ["show", GOOD]):
        assert invoke(*args, "--runs-dir", str(runs / "warm")).exit_code == 0
    load_all(_select(runs / "warm", None)[0], 1, lambda _: None)


def test_ls_show_and_export_loading_as_an_unprivileged_user(shared: Path) -> None:
    user = need_unprivileged_user()
    runs = shared / "runs"
    build_strange(runs, permissions=True)
    warm_up(shared)

    code, out = in_child(lambda: result(invoke("ls", "--runs-dir", str(runs))), user=user)
    assert code == 0 and "Traceback" not in out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("2026")]
    assert GOOD in listed and NOEVENTS in listed and NOPERM not in listed and LOOP not in listed
    assert f"skipped {NOPERM}: cannot read {runs / NOPERM}: permission denied" in out
    assert f"skipped {LOOP}: cannot read {runs / LOOP}: a symbolic link loop" in out
    assert f"{NORESULTS}: cannot read {runs / NORESULTS / 'results'}: permission denied" in out
    assert "summary.json: it is a FIFO, not a regular file" in out
    assert "summary.json: it is a directory, not a regular file" in out

    code, out = in_child(lambda: result(invoke("show", NOEVENTS, "--runs-dir", str(runs))), user=user)
    assert code == 0 and "config" in out and "final metrics" in out
    assert f"events.jsonl: permission denied" in out and "warning" in out
    code, out = in_child(lambda: result(invoke("show", EVENTSDIR, "--runs-dir", str(runs))), user=user)
    assert code == 0 and "events.jsonl: it is a directory, not a regular file" in out
    code, out = in_child(lambda: result(invoke("show", NOPERM, "--runs-dir", str(runs))), user=user)
    assert code == 2 and f"cannot read {runs / NOPERM}: permission denied" in out and "Traceback" not in out
    code, out = in_child(lambda: result(invoke("show", str(runs / NORESULTS), "--runs-dir", str(runs))), user=user)
    assert code == 0 and f"cannot read {runs / NORESULTS / 'results'}: permission denied" in out

    def export_loading() -> tuple[list[str], dict[str, str]]:
        dirs, skipped = _select(runs, None)
        loaded, problems = load_all(dirs, 1, lambda _: None)
        return [r.run_id for r in loaded], {p.run_id: p.reason for p in skipped + problems}

    loaded, left_out = in_child(export_loading, user=user)
    assert GOOD in loaded and NOEVENTS in loaded and FIFO in loaded  # the summary is not needed to plot
    assert left_out[NOPERM].endswith("permission denied") and "symbolic link loop" in left_out[LOOP]
    assert left_out[NORESULTS] == f"cannot read {runs / NORESULTS / 'results'}: permission denied"


def test_fifo_loop_and_folder_for_a_file_never_hang(shared: Path) -> None:
    """The same without dropping privileges (runs everywhere): a hang fails within the deadline."""
    runs = shared / "runs"
    build_strange(runs, permissions=False)
    code, out = in_child(lambda: result(invoke("ls", "--runs-dir", str(runs))), timeout=30)
    assert code == 0 and GOOD in out and f"skipped {LOOP}" in out and "FIFO" in out
    assert "eval unreadable" in next(line for line in out.splitlines() if line.startswith(FIFO))
    code, out = in_child(lambda: result(invoke("show", FIFO, "--runs-dir", str(runs))), timeout=30)
    assert code == 0 and "summary.json: it is a FIFO, not a regular file" in out and "config" in out
    code, out = in_child(lambda: result(invoke("show", SUMMARYDIR, "--runs-dir", str(runs))), timeout=30)
    assert code == 0 and "summary.json: it is a directory" in out
    run = in_child(lambda: load_run_data(RunPaths(runs / FIFO)).notes, timeout=30)
    assert any("FIFO" in note for note in run)


def test_safe_reads_refuse_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(AssertionError, match="Unreadable: cannot read .*fifo: it is a FIFO, not a regular file"):
        in_child(lambda: read_bytes(fifo), timeout=10)  # the child's error comes back as an AssertionError
    with pytest.raises(Unreadable, match="it is a directory"):
        read_bytes(tmp_path)
    assert read_bytes(tmp_path / "missing") is None
    loop = tmp_path / "loop"
    os.symlink("loop", loop)
    with pytest.raises(Unreadable, match="symbolic link loop"):
        read_bytes(loop)
    tail = JsonlTail(fifo)
    polled = in_child(lambda: tail.poll(), timeout=10)
    assert polled.rows == [] and "FIFO" in polled.error


def test_runs_folder_missing_a_file_or_unreadable_is_exit_2(tmp_path: Path) -> None:
    res = invoke("ls", "--runs-dir", str(tmp_path / "missing"))
    assert res.exit_code == 2 and "no runs folder" in res.output and len(res.output.strip().splitlines()) == 1
    (tmp_path / "file").write_text("x")
    res = invoke("ls", "--runs-dir", str(tmp_path / "file"))
    assert res.exit_code == 2 and "is not a folder" in res.output
    res = invoke("ls", "--runs-dir", str(tmp_path))
    assert res.exit_code == 0 and "no runs in" in res.output
    with pytest.raises(Exception, match="no runs folder"):
        scan_runs_dir(tmp_path / "missing")


def test_wrong_typed_summary_is_named_and_left_out(tmp_path: Path) -> None:
    root = make_run(tmp_path, GOOD)
    (root / "results" / "summary.json").write_text(json.dumps({
        "final": [1, 2], "n_train": "lots", "grokking_epoch": "soon", "status": "banana", "best_val": {"x": 1}}))
    rec = load_run(RunPaths(root))
    assert "final" not in rec.summary and "n_train" not in rec.summary and rec.get("n_train") == 500
    assert any("'final' is a list, expected an object" in n for n in rec.notes)
    res = invoke("show", GOOD, "--runs-dir", str(tmp_path))
    assert res.exit_code == 0 and "Traceback" not in res.output
    assert "'n_train' is 'lots', expected a number (ignored)" in res.output and "final metrics" in res.output
    assert "banana" not in res.output.split("warning")[0]  # not shown as if it were a status
    res = invoke("ls", "--runs-dir", str(tmp_path))
    assert res.exit_code == 0 and "soon" not in res.output.split("warning")[0] and "lots" not in res.output.split("warning")[0]
    assert "'grokking_epoch' is 'soon', expected a number (ignored)" in res.output
    (root / "results" / "summary.json").write_text(json.dumps({"final": {"epoch": "late", "val_acc": 0.5}}))
    res = invoke("ls", "--runs-dir", str(tmp_path))
    assert "'final.epoch' is 'late'" in res.output and "late" not in res.output.split("warning")[0]


def test_a_folder_that_is_not_a_run_is_refused_by_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_run(tmp_path / "runs", GOOD)
    (tmp_path / "runs" / "empty").mkdir()
    (tmp_path / "runs" / "only-results" / "results").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    for ref in (".", "empty", str(tmp_path / "runs" / "only-results")):
        res = invoke("show", ref, "--runs-dir", "runs")
        assert res.exit_code == 2 and "is not a run folder" in res.output and "finished" not in res.output, ref


def test_last_row_parses_only_the_last_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grokconsole.runs.history as history

    p = tmp_path / "h.jsonl"
    p.write_text("".join(json.dumps({"epoch": i, "val_acc": 0.5}) + "\n" for i in range(300)) + '{"epoch": 3')
    calls: list[bytes] = []
    real = history.loads
    monkeypatch.setattr(history, "loads", lambda data: calls.append(data) or real(data))
    assert last_row(p) == ({"epoch": 299, "val_acc": 0.5}, 0) and len(calls) == 1
    with open(p, "a") as fh:
        fh.write("0 oops\n")  # the last complete line is junk: the one before it is shown
    calls.clear()
    assert last_row(p) == ({"epoch": 299, "val_acc": 0.5}, 1) and len(calls) == 2


def test_export_keeps_the_good_rows_and_names_what_it_dropped(tmp_path: Path) -> None:
    root = make_run(tmp_path, GOOD, rows=41)
    hist = root / "results" / "history.jsonl"
    lines = hist.read_text().splitlines()
    lines[5] = '{"epoch": 50, "val_acc": 0.1'                      # a malformed line
    lines[7] = json.dumps({"epoch": "seventy", "val_acc": 0.2})    # a row whose epoch is not a number
    lines[9] = json.dumps({"epoch": None, "val_acc": 0.2})
    row = json.loads(lines[11])
    row["train_acc"] = "high"                                       # one wrong value: blank, the row stays
    lines[11] = json.dumps(row)
    hist.write_text("\n".join(lines) + "\n")
    run = load_run_data(RunPaths(root))
    assert len(run.epochs) == 41 - 3
    assert "results/history.jsonl: skipped line 6 (not a JSON object)" in run.notes
    assert "dropped 2 of 40 rows whose epoch is not a number" in run.notes
    assert "1 value(s) of 'train_acc' are not numbers (left blank)" in run.notes
    assert run.has("val_acc") and run.grokking_epoch is not None
    # No row with a numeric epoch: the true reason, not "no 'epoch' column".
    hist.write_text(json.dumps({"epoch": "x", "val_acc": 0.1}) + "\n")
    with pytest.raises(Exception, match="no history row has a numeric 'epoch'"):
        load_run_data(RunPaths(root))
    hist.write_text(json.dumps({"step": 1, "val_acc": 0.1}) + "\n")
    with pytest.raises(Exception, match="history has no 'epoch' column"):
        load_run_data(RunPaths(root))

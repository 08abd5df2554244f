"""The watch console's reading model: which runs, what changed, where grokking is flagged."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from grokconsole.views import watcher as watcher_mod
from grokconsole.runs.errors import GrokError
from grokconsole.runs.folder import RunPaths
from grokconsole.views.watcher import WatchedRun
from grokconsole.views.watchset import Watcher, make_selector
from tests.tui.fakeruns import append_rows, curve_row, make_run

GROKKING_TAIL = [curve_row(e, grok_at=200) for e in range(200, 260, 10)]


def test_first_listing_reads_no_history(tmp_path: Path, monkeypatch) -> None:
    make_run(tmp_path, "a", rows=41)
    calls = []
    monkeypatch.setattr(watcher_mod, "read_legacy_history", lambda p: calls.append(p) or [])
    w = Watcher(tmp_path)
    views = w.start()
    assert [v.run_id for v in views] == ["a"]
    assert views[0].epoch == 400 and views[0].grok_epoch == 300
    run = w.get("a")
    assert run is not None and run.columns == {} and run._hist.offset == os.path.getsize(run.paths.history)
    assert calls == []


def test_running_run_detects_grokking_on_new_rows(tmp_path: Path) -> None:
    root = make_run(tmp_path, "live", rows=10, grok_at=None, status="running", summary=False)
    w = Watcher(tmp_path)
    w.start()
    first = w.poll()
    assert first.rows == 10 and first.notices == []
    append_rows(root, GROKKING_TAIL)
    res = w.poll()
    assert res.rows == len(GROKKING_TAIL) and res.changed == ["live"]
    assert [(n.run_id, n.epoch, n.source) for n in res.notices] == [("live", 200.0, "detector")]
    assert w.views(["live"])[0].grok_epoch == 200.0
    append_rows(root, [curve_row(300, grok_at=200)])
    assert w.poll().notices == []  # flagged once


def test_grokking_event_and_summary_sources(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(watcher_mod, "FILES_SECONDS", 0.0)
    a = make_run(tmp_path, "a", rows=5, grok_at=None, status="running", summary=False)
    b = make_run(tmp_path, "b", rows=5, grok_at=None, status="running", summary=False)
    w = Watcher(tmp_path)
    w.start()
    w.poll()
    with open(a / "results" / "events.jsonl", "a") as fh:
        fh.write(json.dumps({"event": "grokking", "epoch": 42}) + "\n")
    (b / "results" / "summary.json").write_text(json.dumps({"grokking_epoch": 77, "status": "running"}))
    res = w.poll()
    assert sorted((n.run_id, n.epoch, n.source) for n in res.notices) == [("a", 42.0, "event"), ("b", 77.0, "summary")]


def test_already_grokked_runs_are_flagged_quietly(tmp_path: Path) -> None:
    root = make_run(tmp_path, "old", rows=5, grok_at=None, status="running", summary=False)
    with open(root / "results" / "events.jsonl", "w") as fh:
        fh.write(json.dumps({"event": "grokking", "epoch": 10}) + "\n")
    w = Watcher(tmp_path)
    w.start()
    res = w.poll()
    assert res.notices == [] and w.views()[0].grok_epoch == 10


def test_legacy_history_reread_only_when_changed(tmp_path: Path, monkeypatch) -> None:
    root = make_run(tmp_path, "leg", legacy=True, rows=10, grok_at=None)
    w = Watcher(tmp_path)
    w.start()
    run = w.get("leg")
    calls = []
    real = watcher_mod.read_legacy_history
    monkeypatch.setattr(watcher_mod, "read_legacy_history", lambda p: calls.append(p) or real(p))
    run.load()
    assert len(calls) == 1 and len(run.columns["val_acc"]) == 10
    for _ in range(3):
        w.poll()
    assert len(calls) == 1  # unchanged size and mtime: not re-read
    rows = json.loads((root / "results" / "history.json").read_text())
    rows += [dict(curve_row(e, grok_at=100), grokking_detected=e >= 100) for e in (100, 110, 120)]
    (root / "results" / "history.json").write_text(json.dumps(rows))
    res = w.poll()
    assert len(calls) == 2 and res.rows == 3 and len(run.columns["val_acc"]) == 13
    assert [n.epoch for n in res.notices] == [100.0]


def test_load_release_and_truncation(tmp_path: Path) -> None:
    root = make_run(tmp_path, "r", rows=20, status="running", summary=False)
    w = Watcher(tmp_path)
    w.start()
    w.keep_loaded({"r"})
    run = w.get("r")
    assert len(run.columns["epoch"]) == 20 and len(run.columns["irm_mean"]) == 20
    (root / "results" / "history.jsonl").write_text(json.dumps(curve_row(0, grok_at=None)) + "\n")
    res = w.poll()
    assert res.changed == ["r"] and list(run.columns["epoch"]) == [0.0]
    w.keep_loaded(set())
    assert run.columns == {} and not run.keep


def test_columns_stay_aligned_when_rows_differ(tmp_path: Path) -> None:
    root = tmp_path / "x"
    (root / "results").mkdir(parents=True)
    (root / "run.json").write_text(json.dumps({"status": "running", "pid": os.getpid()}))
    (root / "results" / "history.jsonl").write_text(
        '{"epoch": 0, "val_acc": 0.1}\n{"epoch": 1, "ood_acc": 0.2}\n{"epoch": 2, "val_acc": 0.3, "note": "s"}\n')
    run = WatchedRun.open(RunPaths(root))
    run.load()
    assert list(run.columns["epoch"]) == [0.0, 1.0, 2.0]
    assert run.columns["val_acc"][0] == 0.1 and run.columns["val_acc"][2] == 0.3
    assert len(run.columns["ood_acc"]) == 3 and "note" not in run.columns


def test_new_and_deleted_run_folders(tmp_path: Path) -> None:
    make_run(tmp_path, "a")
    w = Watcher(tmp_path)
    w.start()
    w.poll()
    (tmp_path / "b").mkdir()  # a folder that is not (yet) a run
    res = w.poll()
    assert res.added == []
    (tmp_path / "b" / "config.json").write_text("{}")
    res = w.poll()
    assert res.added == ["b"] and "b" in res.changed
    shutil.rmtree(tmp_path / "a")
    res = w.poll()
    assert res.removed == ["a"] and list(w.runs) == ["b"]


def test_selectors(tmp_path: Path) -> None:
    for name in ("20260101-a-grokking", "20260101-b-standard", "other"):
        make_run(tmp_path, name)
    assert sorted(Watcher(tmp_path, ["*grokking*"]).start()[i].run_id for i in range(1)) == ["20260101-a-grokking"]
    assert [v.run_id for v in Watcher(tmp_path, ["standard"]).start()] == ["20260101-b-standard"]
    assert [v.run_id for v in Watcher(tmp_path, ["2026"]).start()] == ["20260101-a-grokking", "20260101-b-standard"]
    assert [v.run_id for v in Watcher(tmp_path, [str(tmp_path / "other")]).start()] == ["other"]
    assert [v.run_id for v in Watcher(tmp_path, [str(tmp_path / "*-b-*")]).start()] == ["20260101-b-standard"]
    with pytest.raises(GrokError, match="no run 'nope'"):
        make_selector(["nope"], tmp_path)
    w = Watcher(tmp_path, ["*grokking*"])
    w.start()
    make_run(tmp_path, "20260102-c-grokking")
    make_run(tmp_path, "20260102-d-standard")
    assert w.poll().added == ["20260102-c-grokking"]


def test_status_follows_run_json(tmp_path: Path, monkeypatch) -> None:
    root = make_run(tmp_path, "r", status="running", summary=False)
    w = Watcher(tmp_path)
    w.start()
    assert w.counts() == {"running": 1}
    w.poll()  # catches up with the history
    (root / "run.json").write_text(json.dumps({"status": "finished", "exit_code": 0}))
    assert w.poll().changed == []  # summary and run.json are looked at once a second, not every poll
    monkeypatch.setattr(watcher_mod, "FILES_SECONDS", 0.0)
    res = w.poll()
    assert res.changed == ["r"] and w.counts() == {"finished": 1}


def test_loading_an_old_run_is_not_news(tmp_path: Path) -> None:
    root = make_run(tmp_path, "old", rows=41, grok_at=300, summary=False)
    w = Watcher(tmp_path)
    w.start()
    assert w.poll().notices == []  # replayed quietly on the first poll (no summary verdict)
    run = w.get("old")
    assert run.grok_epoch == 300
    run.grok_epoch = None  # as if the first poll had not flagged it
    run.release()
    run.load()
    assert run.grok_epoch == 300 and w.poll().notices == []
    append_rows(root, [curve_row(410, grok_at=300)])
    assert w.poll().notices == []


def test_tracker_runs_are_not_replayed(tmp_path: Path) -> None:
    make_run(tmp_path, "tracked", rows=41, grok_at=None, status="running")  # summary with a verdict
    make_run(tmp_path, "script", rows=41, grok_at=None, status="running", summary=False)
    w = Watcher(tmp_path)
    w.start()
    assert w.poll().rows == 41  # only the run without a summary verdict is replayed


def test_eval_job_of_a_run_shows_in_its_view(tmp_path: Path) -> None:
    root = make_run(tmp_path, "evald", rows=5, grok_at=None)
    (root / "eval").mkdir()
    (root / "eval" / "run.json").write_text(json.dumps({"status": "failed", "pid": 1, "host": "x", "exit_code": 1}))
    run = WatchedRun.open(RunPaths(root))
    assert run.view().eval_note == "eval failed"
    (root / "eval" / "run.json").write_text(json.dumps({"status": "running", "pid": os.getpid(),
                                                        "host": os.uname().nodename, "kind": "eval"}))
    run.poll(now=run._checked_files + 5)
    assert run.view().eval_note == "eval running"
    (root / "eval" / "run.json").write_text(json.dumps({"status": "finished", "pid": 1, "exit_code": 0,
                                                        "end": "2026-01-01T00:00:00+00:00"}))
    run.poll(now=run._checked_files + 5)
    assert run.view().eval_note == ""


def test_step_based_run_shows_its_length_in_epochs(tmp_path: Path) -> None:
    """A run that counts in optimizer steps is as long as its step budget, not its unused ``epochs``."""
    root = make_run(tmp_path, "steps", rows=0, epochs=1000, config={"max_steps": 200}, summary=False)
    append_rows(root, [{"epoch": 1.875, "step": 40, "train_acc": 0.5, "val_acc": 0.4}])
    make_run(tmp_path, "epochs", rows=3, grok_at=None, epochs=400, summary=False)
    w = Watcher(tmp_path)
    w.start()
    w.poll()
    view = w.get("steps").view()
    assert (view.epoch, view.epochs) == (1.875, 9.375)
    assert w.get("epochs").view().epochs == 400


def test_a_step_counted_run_flags_grokking_at_a_step(tmp_path: Path) -> None:
    """The grok column speaks the progress column's unit: steps for a run counted in them."""
    root = make_run(tmp_path, "steps", rows=0, config={"max_steps": 200}, summary=False)
    append_rows(root, [{"epoch": 1.875, "step": 40, "train_acc": 1.0, "val_acc": 0.9}])
    (root / "results" / "summary.json").write_text(json.dumps({"grokking_epoch": 1.5}))
    w = Watcher(tmp_path)
    w.start()
    w.poll()
    view = w.get("steps").view()
    assert (view.grok_epoch, view.grok_step) == (1.5, 32)
    from grokconsole.tui.widgets.run_table import row_cells
    assert str(row_cells(view, False)["grok"]) == "⚑ 32"

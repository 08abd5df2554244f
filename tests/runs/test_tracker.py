"""The Tracker API: folder creation, rows, online detection, events, summary, lifecycle."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from grokconsole import Tracker
from grokconsole.runs.errors import GrokError
from grokconsole.runs.history import read_jsonl
from grokconsole.runs.lifecycle import read_run_state


def _val(e: int) -> float:
    return 0.05 + 0.95 / (1 + math.exp(-(e - 600) / 20))


def test_tracker_writes_a_complete_run(tmp_path: Path) -> None:
    with Tracker(task="toy", condition="grokking", config={"n_train": 50, "seed": 2, "lr": 0.1},
                 runs_dir=tmp_path) as t:
        for e in range(0, 1000, 10):
            t.log(epoch=e, train_acc=min(1.0, e / 100), val_acc=_val(e), irm_mean=None)
    root = t.run_dir
    assert root.parent == tmp_path and root.name.endswith("-toy-grokking-n50-s2")
    config = json.loads((root / "config.json").read_text())
    assert config["lr"] == 0.1 and config["task"] == "toy" and "grokconsole_version" in config
    rows = read_jsonl(root / "results" / "history.jsonl").rows
    assert len(rows) == 100 and "irm_mean" not in rows[0]  # absent, never 0
    assert all(k in rows[0] for k in ("epoch", "step", "time", "grokking_detected"))
    flagged = [r["epoch"] for r in rows if r["grokking_detected"]]
    assert flagged and flagged[0] > 500
    events = [e["event"] for e in read_jsonl(root / "results" / "events.jsonl").rows]
    assert events == ["memorization", "generalization", "grokking"]
    summary = json.loads((root / "results" / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["grokked"] is True
    assert summary["memorization_epoch"] == 100
    assert summary["best_val"] == pytest.approx(max(r["val_acc"] for r in rows))
    assert summary["transition_midpoint"] == pytest.approx(600, abs=20)
    state = read_run_state(root)
    assert state.status == "finished" and state.exit_code == 0


def test_tracker_uses_the_folder_from_grok_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "given"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"task": "custom", "condition": "standard", "seed": 4}))
    monkeypatch.setenv("GROK_RUN_DIR", str(run_dir))
    t = Tracker(task="mine", config={"width": 64, "seed": 9})
    t.log(epoch=1, train_acc=0.5, val_acc=0.4)
    t.finish()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["seed"] == 4 and config["width"] == 64  # launcher's keys win, the script's are added
    assert not (run_dir / "run.json").exists()  # the supervisor owns the lifecycle
    assert t.run_dir == run_dir


def test_failed_block_records_failure(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with Tracker(task="toy", runs_dir=tmp_path) as t:
            t.log(epoch=0, train_acc=0.1)
            raise RuntimeError("boom")
    assert read_run_state(t.run_dir).status == "failed"
    with pytest.raises(GrokError):
        t.log(epoch=1)

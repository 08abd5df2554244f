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
from grokconsole.runs.tracker import Diverged


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


class _FakeCuda:
    """torch.cuda as a process that has put torch on a GPU sees it (3 MiB at most allocated)."""

    @staticmethod
    def is_initialized() -> bool:
        return True

    @staticmethod
    def max_memory_allocated() -> int:
        return 3 * 1024 * 1024


def test_summary_records_peak_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import resource
    import sys
    import types

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    with Tracker(task="toy", runs_dir=tmp_path) as t:
        t.log(epoch=0, train_acc=0.1)
    summary = json.loads((t.run_dir / "results" / "summary.json").read_text())
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    assert 0 < summary["peak_rss_mb"] <= own + 0.1
    assert "peak_gpu_mb" not in summary  # no torch loaded: no GPU number, and torch is not imported for one
    assert "torch" not in sys.modules

    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=_FakeCuda()))
    with Tracker(task="toy", runs_dir=tmp_path, name="gpu") as t:
        t.log(epoch=0, train_acc=0.1)
    assert json.loads((t.run_dir / "results" / "summary.json").read_text())["peak_gpu_mb"] == 3.0


def test_resumed_run_keeps_the_higher_earlier_peak(tmp_path: Path) -> None:
    with Tracker(task="toy", runs_dir=tmp_path) as t:
        t.log(epoch=0, step=0, train_acc=0.1)
    summary_path = t.run_dir / "results" / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["peak_rss_mb"], summary["peak_gpu_mb"] = 1e7, 5.0  # an earlier process used more
    summary_path.write_text(json.dumps(summary))
    again = Tracker(run_dir=t.run_dir)
    again.resume(0)
    again.log(epoch=1, step=1, train_acc=0.2)
    final = again.finish()
    assert final["peak_rss_mb"] == 1e7 and final["peak_gpu_mb"] == 5.0


def _events(run_dir: Path) -> list[dict]:
    return read_jsonl(run_dir / "results" / "events.jsonl").rows


def test_nan_loss_is_a_diverged_failed_run(tmp_path: Path) -> None:
    with pytest.raises(Diverged, match=r"^diverged at step 5 \(loss nan\)$"):
        with Tracker(task="toy", runs_dir=tmp_path) as t:
            t.log(epoch=0, step=0, loss=2.3, train_acc=0.1)
            t.log(epoch=1, step=5, loss=float("nan"), train_acc=0.1)
            t.log(epoch=2, step=10, loss=1.0)  # never reached: a diverged run is over
    rows = read_jsonl(t.run_dir / "results" / "history.jsonl").rows
    assert [r["step"] for r in rows] == [0, 5] and rows[-1]["loss"] is None  # the row that showed it is kept
    diverged = [e for e in _events(t.run_dir) if e["event"] == "diverged"]
    assert len(diverged) == 1
    assert (diverged[0]["step"], diverged[0]["epoch"], diverged[0]["metric"], diverged[0]["value"]) == (5, 1, "loss", "nan")
    summary = json.loads((t.run_dir / "results" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["end_reason"] == "diverged"
    assert summary["error"] == "diverged at step 5 (loss nan)"
    state = read_run_state(t.run_dir)
    assert state.status == "failed" and state.exit_code == 1 and state.error == "diverged at step 5 (loss nan)"
    with pytest.raises(GrokError):
        t.log(epoch=3, step=15, loss=1.0)


def test_infinite_weight_norm_fails_a_run_without_a_context_manager(tmp_path: Path) -> None:
    t = Tracker(task="toy", runs_dir=tmp_path)
    t.log(epoch=0, train_loss=2.0, weight_norm=10.0)
    with pytest.raises(Diverged) as caught:
        t.log(epoch=1, train_loss=2.0, weight_norm=float("inf"))
    assert (caught.value.step, caught.value.metric) == (1, "weight_norm")
    assert read_run_state(t.run_dir).status == "failed"  # recorded before raising: no "crashed" run left behind
    summary = json.loads((t.run_dir / "results" / "summary.json").read_text())
    assert summary["error"] == "diverged at step 1 (weight_norm inf)"


def test_nan_in_other_columns_is_not_divergence(tmp_path: Path) -> None:
    with Tracker(task="toy", runs_dir=tmp_path) as t:
        t.log(epoch=0, train_loss=2.0, val_acc=float("nan"), irm_mean=float("nan"), shortcut_ratio=float("inf"))
        t.log(epoch=1, train_loss=1.0, val_acc=0.5)
    assert read_run_state(t.run_dir).status == "finished"
    assert not [e for e in _events(t.run_dir) if e["event"] == "diverged"]


def test_resume_over_a_malformed_summary(tmp_path: Path) -> None:
    with Tracker(task="toy", runs_dir=tmp_path) as t:
        t.log(epoch=0, step=0, train_acc=0.1)
    (t.run_dir / "results" / "summary.json").write_text("{not json")
    again = Tracker(run_dir=t.run_dir)
    assert len(again.resume(0)) == 1  # the rows are what a resume needs; the old summary is rewritten
    assert again.finish()["peak_rss_mb"] > 0

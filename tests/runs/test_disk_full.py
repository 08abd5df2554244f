"""A full disk (ENOSPC, EDQUOT, EIO simulated by monkeypatched writes): the writers give back the
space of their partial files, keep what was there, and raise DiskFull naming the file."""
from __future__ import annotations

import errno
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from grokconsole.runs import history as history_mod
from grokconsole.runs import jsonio
from grokconsole.runs.errors import DiskFull, GrokError, as_disk_full, is_disk_error
from grokconsole.runs.folder import check_free_space
from grokconsole.runs.history import HistoryWriter, read_jsonl
from grokconsole.runs.lifecycle import read_run_state

CODES = [(errno.ENOSPC, "no space left on device"), (errno.EDQUOT, "disk quota exceeded"),
         (errno.EIO, "input/output error")]


def _failing_write(monkeypatch: pytest.MonkeyPatch, code: int, after: int = 3) -> None:
    """``os.write`` in the JSON helpers writes ``after`` bytes, then the device refuses."""
    real = os.write

    def write(fd: int, data: Any) -> int:
        real(fd, bytes(data)[:after])
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(jsonio.os, "write", write)


def _failing_fdopen(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """The temporary file of an atomic write takes a few bytes, then the device refuses."""
    real = os.fdopen

    class Full(io.BufferedWriter):
        def write(self, data: Any) -> int:
            super().write(bytes(data)[:5])
            self.flush()
            raise OSError(code, os.strerror(code))

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        return Full(real(fd, "wb", buffering=0)) if "w" in mode else real(fd, mode, *args, **kwargs)

    monkeypatch.setattr(jsonio.os, "fdopen", fdopen)


@pytest.mark.parametrize("code, reason", CODES)
def test_atomic_json_write_keeps_the_old_file_and_removes_its_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   code: int, reason: str) -> None:
    target = tmp_path / "summary.json"
    jsonio.write_json_atomic(target, {"epoch": 1})
    _failing_fdopen(monkeypatch, code)
    with pytest.raises(DiskFull) as info:
        jsonio.write_json_atomic(target, {"epoch": 2})
    assert str(info.value) == f"{reason} while writing {target}"
    assert info.value.errno == code and info.value.path == target
    assert isinstance(info.value, GrokError) and isinstance(info.value, OSError)
    assert json.loads(target.read_text()) == {"epoch": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_atomic_jsonl_write_removes_its_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "train.jsonl"
    _failing_fdopen(monkeypatch, errno.ENOSPC)
    with pytest.raises(DiskFull, match="train.jsonl"):
        jsonio.write_jsonl_atomic(target, [{"a": 1}] * 100)
    assert list(tmp_path.iterdir()) == []


def test_other_write_errors_stay_what_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_fdopen(monkeypatch, errno.EACCES)
    with pytest.raises(PermissionError) as info:
        jsonio.write_json_atomic(tmp_path / "x.json", {})
    assert not isinstance(info.value, DiskFull)
    assert list(tmp_path.iterdir()) == []


def test_append_cuts_a_half_line_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = tmp_path / "events.jsonl"
    jsonio.append_jsonl(events, {"event": "start"})
    before = events.read_bytes()
    _failing_write(monkeypatch, errno.ENOSPC)
    with pytest.raises(DiskFull, match=f"no space left on device while writing {events}"):
        jsonio.append_jsonl(events, {"event": "grokking", "epoch": 10})
    assert events.read_bytes() == before


def test_history_writer_never_leaves_half_a_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.jsonl"
    writer = HistoryWriter(path)
    writer.append({"epoch": 1, "val_acc": 0.5})
    _failing_write(monkeypatch, errno.EDQUOT)
    with pytest.raises(DiskFull, match="disk quota exceeded while writing"):
        writer.append({"epoch": 2, "val_acc": 0.6})
    monkeypatch.undo()
    writer.append({"epoch": 3, "val_acc": 0.7})  # space again: the writer goes on
    writer.close()
    parsed = read_jsonl(path)
    assert [r["epoch"] for r in parsed.rows] == [1, 3] and parsed.bad_lines == 0


def test_resume_truncation_of_the_history_removes_its_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps({"epoch": e, "step": e}) + "\n" for e in range(5)))
    before = path.read_bytes()
    _failing_fdopen(monkeypatch, errno.ENOSPC)
    with pytest.raises(DiskFull):
        history_mod.truncate_history_after(path, 2)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["history.jsonl"]


def test_disk_error_helpers() -> None:
    assert is_disk_error(OSError(errno.ENOSPC, "x")) and not is_disk_error(OSError(errno.ENOENT, "x"))
    assert not is_disk_error(RuntimeError("x"))
    other = OSError(errno.EACCES, "denied")
    assert as_disk_full(other, "f") is other
    full = as_disk_full(OSError(errno.ENOSPC, "full"), "runs/r/run.json")
    assert isinstance(full, DiskFull) and str(full) == "no space left on device while writing runs/r/run.json"


class _Statvfs:
    def __init__(self, bavail: int, favail: int = 1000) -> None:
        self.f_bavail, self.f_frsize, self.f_files, self.f_favail = bavail, 4096, 100_000, favail


def test_check_free_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_free_space(tmp_path / "not" / "yet")  # a real disk with room: passes, creates nothing
    assert not (tmp_path / "not").exists()
    monkeypatch.setattr(os, "statvfs", lambda p: _Statvfs(bavail=3))
    with pytest.raises(GrokError, match=r"no space left on device for runs folder .*runs \(12 KiB free"):
        check_free_space(tmp_path / "runs")
    monkeypatch.setattr(os, "statvfs", lambda p: _Statvfs(bavail=10**6, favail=0))
    with pytest.raises(GrokError, match="no free inodes"):
        check_free_space(tmp_path / "runs")


def test_tracker_that_cannot_write_its_summary_ends_failed_with_the_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grokconsole.runs import tracker as tracker_mod

    tracker = tracker_mod.Tracker("modarith", "grokking", {"n_train": 10, "seed": 0}, runs_dir=tmp_path)
    tracker.log(1, val_acc=0.5, train_acc=1.0)
    real = tracker_mod.write_json_atomic

    def write(path: Path, value: Any) -> None:
        if Path(path).name == "summary.json":
            raise DiskFull(path)
        real(path, value)

    monkeypatch.setattr(tracker_mod, "write_json_atomic", write)
    tracker.finish("finished", 0)
    state = read_run_state(tracker.run_dir)
    assert state is not None and state.status == "failed" and state.exit_code == 1
    assert state.error == f"no space left on device while writing {tracker.paths.summary}"


def test_a_tracker_left_by_a_refused_write_records_it(tmp_path: Path) -> None:
    from grokconsole.runs.tracker import Tracker

    with pytest.raises(DiskFull):
        with Tracker("modarith", "grokking", {"n_train": 10, "seed": 0}, runs_dir=tmp_path) as tracker:
            tracker.log(1, val_acc=0.5)
            raise DiskFull(tracker.paths.latest_checkpoint)
    state = read_run_state(tracker.run_dir)
    assert state is not None and state.status == "failed"
    assert state.error == f"no space left on device while writing {tracker.paths.latest_checkpoint}"

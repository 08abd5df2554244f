"""The supervisor of `grok run -- COMMAND` meets a full disk while writing the run's end: the run
ends failed with the reason in run.json, not `running` forever."""
from __future__ import annotations

import errno
import signal
import sys
from pathlib import Path

import pytest

from grokconsole.launch import supervise
from grokconsole.runs.errors import DiskFull
from grokconsole.runs.lifecycle import read_run_state


def test_a_full_disk_at_the_end_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "r1"
    (run / "results").mkdir(parents=True)
    summary = run / "results" / "summary.json"

    def finish_summary(*_: object) -> None:
        raise DiskFull(summary, errno.ENOSPC)

    monkeypatch.setattr(supervise, "finish_summary", finish_summary)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = supervise.main([str(run), "--", sys.executable, "-c", "pass"])
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    state = read_run_state(run)
    assert code == 1 and state is not None and state.status == "failed"
    assert state.error == f"no space left on device while writing {summary}"

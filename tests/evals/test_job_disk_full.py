"""An eval job that meets a full disk ends failed with the reason in eval/run.json, even when its
progress file can take no more lines."""
from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from grokconsole.evals import job
from grokconsole.runs.errors import DiskFull
from grokconsole.runs.evalfiles import EvalPaths
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.lifecycle import Lifecycle, read_run_state
from grokconsole.runs.signals import StopFlag


def test_a_full_disk_is_recorded_as_the_jobs_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "r1"
    run.mkdir()
    ep = EvalPaths(RunPaths(run))
    life = Lifecycle(ep.root, kind="eval")
    life.start()
    target = ep.suite_file(100, "accuracy")

    def evaluate_run(*_: Any) -> str:
        raise DiskFull(target, errno.ENOSPC)

    def append_jsonl(path: Path, record: dict[str, Any]) -> None:
        raise DiskFull(path, errno.ENOSPC)  # not even the crash event fits

    monkeypatch.setattr("grokconsole.evals.runner.evaluate_run", evaluate_run)
    monkeypatch.setattr(job, "append_jsonl", append_jsonl)
    assert job._evaluate(run, ep, life, [], StopFlag()) == 1
    state = read_run_state(ep.root)
    assert state is not None and state.status == "failed" and state.exit_code == 1
    assert state.error == f"no space left on device while writing {target}"

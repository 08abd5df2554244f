"""End-to-end: a diverging run, from the trainer or from a script's Tracker, is followed to `failed`."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from grokconsole.runs.lifecycle import read_run_state
from tests.conftest import TINY_MODARITH
from tests.e2e.test_run_lifecycle import grok

pytestmark = pytest.mark.e2e


def test_follow_shows_the_divergence_and_exits_1(tmp_path: Path) -> None:
    res = grok("run", "--runs-dir", str(tmp_path), *TINY_MODARITH, "--set", "lr=1e9 eval_every=1 epochs=20",
               "--follow")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "diverged at step" in res.stdout and "train_loss nan" in res.stdout
    run = next(tmp_path.iterdir())
    assert read_run_state(run).status == "failed"


SCRIPT = textwrap.dedent("""
    from grokconsole import Tracker
    with Tracker(task="toy") as t:
        for step in range(10):
            t.log(epoch=step, step=step, loss=1.0 / (3 - step) if step != 3 else float("nan"))
""")


def test_wrapped_script_whose_loss_goes_nan_is_failed(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    runs = tmp_path / "runs"
    res = grok("run", "--runs-dir", str(runs), "--follow", "--", sys.executable, str(script))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "diverged at step 3 (loss nan)" in res.stdout  # the event, as --follow prints it
    run = next(runs.iterdir())
    state = read_run_state(run)
    assert state.status == "failed" and state.exit_code == 1
    summary = json.loads((run / "results" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == "diverged at step 3 (loss nan)"
    assert summary["step"] == 3

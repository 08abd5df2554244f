"""Local sweeps end to end: -j bounds the runs at once, the rest wait as `queued`, re-runs add nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.launch.helpers import all_ended, grok, statuses, wait_until, write_sweep

pytestmark = pytest.mark.e2e


def test_sweep_with_two_at_once_then_rerun_is_idempotent(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sweep = write_sweep(tmp_path / "s.toml", "loc", {"seed": [0, 1, 2]}, {"epochs": 40})
    res = grok("sweep", str(sweep), "-j", "2", "--runs-dir", str(runs))
    assert res.returncode == 0, res.stderr
    assert "3 launched locally, at most 2 at once" in res.stdout
    first = statuses(runs)
    assert len(first) == 3 and set(first.values()) <= {"queued", "running", "finished"}
    assert "queued" in first.values()  # the third waits for a slot
    most = 0

    def ended() -> bool:
        nonlocal most
        most = max(most, list(statuses(runs).values()).count("running"))
        return all_ended(runs)

    wait_until(ended, timeout=180, every=0.05)
    assert most <= 2
    assert set(statuses(runs).values()) == {"finished"}
    configs = [json.loads((runs / r / "config.json").read_text()) for r in statuses(runs)]
    assert sorted(c["sweep_point"]["seed"] for c in configs) == [0, 1, 2]
    assert {c["sweep"] for c in configs} == {"loc"} and {c["threads"] for c in configs} == {1}

    status = grok("sweep", "status", "loc", "--runs-dir", str(runs))
    assert status.returncode == 0 and "3 points" in status.stdout and "3 finished" in status.stdout

    again = grok("sweep", str(sweep), "-j", "2", "--runs-dir", str(runs))
    assert again.returncode == 0 and "0 launched" in again.stdout and "3 already had a run" in again.stdout
    assert len(statuses(runs)) == 3

    # A failed point, and only it, is launched again.
    victim = sorted(statuses(runs))[1]
    state = json.loads((runs / victim / "run.json").read_text())
    (runs / victim / "run.json").write_text(json.dumps({**state, "status": "failed", "exit_code": 1}))
    dry = grok("sweep", str(sweep), "--runs-dir", str(runs), "--dry-run")
    assert "1 to launch" in dry.stdout and "loc-seed=1" in dry.stdout
    third = grok("sweep", str(sweep), "-j", "2", "--runs-dir", str(runs))
    assert "1 launched" in third.stdout
    wait_until(lambda: all_ended(runs), timeout=120)
    assert len(statuses(runs)) == 4

    listed = grok("ls", "--runs-dir", str(runs), "--sweep", "loc")
    assert listed.returncode == 0 and "4 runs" in listed.stdout
    assert grok("ls", "--runs-dir", str(runs), "--sweep", "other").returncode == 2


def test_cancel_stops_the_running_point_and_removes_queued_ones(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sweep = write_sweep(tmp_path / "s.toml", "long", {"seed": [0, 1, 2]}, {"epochs": 200000})
    assert grok("sweep", str(sweep), "-j", "1", "--runs-dir", str(runs)).returncode == 0
    running = wait_until(lambda: [r for r, s in statuses(runs).items() if s == "running"], timeout=60)[0]
    wait_until(lambda: (runs / running / "results" / "history.jsonl").exists(), timeout=120)  # training
    res = grok("sweep", "cancel", "long", "--runs-dir", str(runs))
    assert res.returncode == 0, res.stderr
    assert "1 running stopped, 2 queued removed" in res.stdout
    wait_until(lambda: all_ended(runs), timeout=60)
    assert list(statuses(runs).values()) == ["stopped"]


def test_grok_stop_takes_a_queued_run_out_of_the_local_queue(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sweep = write_sweep(tmp_path / "s.toml", "q", {"seed": [0, 1]}, {"epochs": 200000})
    assert grok("sweep", str(sweep), "-j", "1", "--runs-dir", str(runs)).returncode == 0
    running = wait_until(lambda: [r for r, s in statuses(runs).items() if s == "running"], timeout=60)[0]
    wait_until(lambda: (runs / running / "results" / "history.jsonl").exists(), timeout=120)  # training
    queued = [r for r, s in statuses(runs).items() if s == "queued"]
    res = grok("stop", queued[0], "--runs-dir", str(runs))
    assert res.returncode == 0 and "stopped" in res.stdout
    assert grok("sweep", "cancel", "q", "--runs-dir", str(runs)).returncode == 0
    wait_until(lambda: all_ended(runs), timeout=60)
    assert sorted(statuses(runs).values()) == ["stopped", "stopped"]


@pytest.mark.parametrize("grid, message", [
    ({"seed": [0, 1], "lr": [0.01, "fast"]}, "point 1 (seed=0 lr=fast)"),
    ({"seed": [0], "optimizer": ["lion"]}, "point 0 (seed=0 optimizer=lion)"),
])
def test_a_bad_point_exits_2_and_launches_nothing(tmp_path: Path, grid: dict, message: str) -> None:
    runs = tmp_path / "runs"
    res = grok("sweep", str(write_sweep(tmp_path / "s.toml", "bad", grid)), "--runs-dir", str(runs))
    assert res.returncode == 2 and message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not runs.exists()


def test_bad_invocations(tmp_path: Path) -> None:
    runs = str(tmp_path / "runs")
    assert "no sweep 'nope'" in grok("sweep", "status", "nope", "--runs-dir", runs).stderr
    assert "needs a sweep name" in grok("sweep", "cancel", "--runs-dir", runs).stderr
    assert "no sweep file" in grok("sweep", str(tmp_path / "missing.toml"), "--runs-dir", runs).stderr
    sweep = write_sweep(tmp_path / "s.toml", "x", {"seed": [0]})
    assert "unknown executor" in grok("sweep", str(sweep), "-x", "k8s", "--runs-dir", runs).stderr
    assert "--jobs must be at least 1" in grok("sweep", str(sweep), "-j", "0", "--runs-dir", runs).stderr
    assert not (tmp_path / "runs").exists()

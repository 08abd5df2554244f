"""End-to-end: real detached training runs through `grok run`, stop, kill -9 + resume, wrapped commands."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grokconsole.runs.history import read_jsonl
from grokconsole.runs.lifecycle import read_run_state
from tests.conftest import TINY_MODARITH, wait_for_end

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def grok(*args: str, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    env.pop("GROK_RUN_DIR", None)
    return subprocess.run([sys.executable, "-m", "grokconsole", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


def launch(runs: Path, *args: str) -> Path:
    res = grok("run", "--runs-dir", str(runs), *args)
    assert res.returncode == 0, res.stderr
    run_id = res.stdout.strip().splitlines()[0]
    return runs / run_id


def wait_rows(run_dir: Path, at_least: float, timeout: float = 120, key: str = "epoch") -> None:
    """Poll the history until its last row's ``key`` (epoch, step, iteration…) reaches ``at_least``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = read_jsonl(run_dir / "results" / "history.jsonl").rows
        if rows and rows[-1].get(key, float("-inf")) >= at_least:
            return
        time.sleep(0.05)
    raise TimeoutError(f"no row at {key} ≥ {at_least} in {run_dir}")


def strip_time(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time"} for r in rows]


def test_detached_run_writes_every_file(tmp_path: Path) -> None:
    run = launch(tmp_path, *TINY_MODARITH, "--condition", "grokking", "--epochs", "60", "--seed", "1")
    assert run.name.endswith("-modarith-grokking-n200-s1")
    assert wait_for_end(run) == "finished"
    config = json.loads((run / "config.json").read_text())
    for key in ("task", "condition", "n_train", "seed", "lr", "weight_decay", "epochs", "device", "device_resolved",
                "grokconsole_version", "git_commit", "command_line", "created", "run_id"):
        assert key in config, key
    state = read_run_state(run)
    assert state.status == "finished" and state.exit_code == 0 and state.end and state.heartbeat
    rows = read_jsonl(run / "results" / "history.jsonl").rows
    assert [r["epoch"] for r in rows] == list(range(0, 61, 10))
    for key in ("epoch", "step", "time", "train_loss", "train_acc", "val_loss", "val_acc", "weight_norm",
                "feature_rank", "grokking_detected"):
        assert key in rows[-1], key
    assert "ood_acc" not in rows[-1] and "irm_mean" not in rows[-1]  # the task has none: absent, not 0
    summary = json.loads((run / "results" / "summary.json").read_text())
    for key in ("condition", "n_train", "seed", "best_val", "best_ood", "final", "memorization_epoch",
                "grokking_epoch", "delay", "wall_time", "status"):
        assert key in summary, key
    assert summary["status"] == "finished" and summary["final"]["epoch"] == 60
    ckpts = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert "latest.pt" in ckpts and any(n.startswith("step_") for n in ckpts)
    assert "finished at epoch 60" in (run / "logs" / "stdout.log").read_text()
    assert (run / "logs" / "stderr.log").exists()
    listing = grok("ls", "--runs-dir", str(tmp_path))
    assert run.name in listing.stdout and "finished" in listing.stdout
    show = grok("show", run.name, "--runs-dir", str(tmp_path))
    assert show.returncode == 0 and "weight_decay" in show.stdout


def test_follow_returns_the_runs_exit_code(tmp_path: Path) -> None:
    res = grok("run", "--runs-dir", str(tmp_path), *TINY_MODARITH, "--epochs", "30", "--follow")
    assert res.returncode == 0, res.stderr
    assert "finished" in res.stdout


def test_stop_then_resume(tmp_path: Path) -> None:
    run = launch(tmp_path, *TINY_MODARITH, "--epochs", "100000", "--set", "checkpoint_every=1000")
    wait_rows(run, 20)
    res = grok("stop", run.name, "--runs-dir", str(tmp_path))
    assert res.returncode == 0 and "stopped" in res.stdout, res.stdout + res.stderr
    state = read_run_state(run)
    assert state.status == "stopped" and state.exit_code == 143
    events = [e["event"] for e in read_jsonl(run / "results" / "events.jsonl").rows]
    assert "stop" in events
    assert (run / "checkpoints" / "latest.pt").exists()
    stopped_at = read_jsonl(run / "results" / "history.jsonl").rows[-1]["epoch"]
    # a stopped run resumes; a stop request to a finished run is refused
    res = grok("run", "--resume", run.name, "--runs-dir", str(tmp_path))
    assert res.returncode == 0
    wait_rows(run, stopped_at + 20)
    assert grok("stop", run.name, "--runs-dir", str(tmp_path)).returncode == 0
    events = [e["event"] for e in read_jsonl(run / "results" / "events.jsonl").rows]
    assert events.count("resume") == 1 and events.count("stop") == 2


def test_kill9_then_resume_gives_the_same_history(tmp_path: Path) -> None:
    args = (*TINY_MODARITH, "--epochs", "400", "--set", "checkpoint_every=50")
    reference = launch(tmp_path / "a", *args, "--name", "reference")
    assert wait_for_end(reference) == "finished"
    victim = launch(tmp_path / "b", *args, "--name", "victim", "--set", "checkpoint_every=50")
    wait_rows(victim, 120)
    os.kill(read_run_state(victim).pid, signal.SIGKILL)
    assert wait_for_end(victim, timeout=10) == "crashed"
    res = grok("run", "--resume", victim.name, "--runs-dir", str(tmp_path / "b"), "--follow")
    assert res.returncode == 0, res.stdout + res.stderr
    want = strip_time(read_jsonl(reference / "results" / "history.jsonl").rows)
    got = strip_time(read_jsonl(victim / "results" / "history.jsonl").rows)
    assert got == want
    ref_summary = json.loads((reference / "results" / "summary.json").read_text())
    got_summary = json.loads((victim / "results" / "summary.json").read_text())
    for key in ("best_val", "memorization_epoch", "grokking_epoch"):
        assert got_summary[key] == ref_summary[key]


SCRIPT = textwrap.dedent("""
    import math, sys
    from grokconsole import Tracker
    with Tracker(task="toy", config={"width": 8}) as t:
        for e in range(0, 400, 10):
            t.log(epoch=e, train_acc=min(1.0, e / 50), val_acc=0.05 + 0.95 / (1 + math.exp(-(e - 250) / 8)))
    sys.exit(int(sys.argv[1]))
""")


def test_wrapped_command_is_a_tracked_run(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    runs = tmp_path / "runs"
    ok = grok("run", "--runs-dir", str(runs), "--condition", "standard", "--n-train", "64", "--set", "note=hello",
              "--follow", "--", sys.executable, str(script), "0")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    run = next(runs.iterdir())
    assert run.name.endswith("-custom-standard-n64-s0")
    config = json.loads((run / "config.json").read_text())
    assert config["note"] == "hello" and config["width"] == 8 and config["command"][-1] == "0"
    summary = json.loads((run / "results" / "summary.json").read_text())
    assert summary["grokked"] is True and summary["status"] == "finished"
    assert read_run_state(run).kind == "command"
    bad = grok("run", "--runs-dir", str(runs), "--follow", "--", sys.executable, str(script), "3")
    assert bad.returncode == 3
    failed = sorted(runs.iterdir())[-1]
    state = read_run_state(failed)
    assert state.status == "failed" and state.exit_code == 3


def test_launched_processes_run_hugging_face_offline(tmp_path: Path) -> None:
    """The launch path hands every process it starts the offline settings (the package sets none on import)."""
    runs = tmp_path / "runs"
    env_probe = "import os; print(os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE'))"
    ok = grok("run", "--runs-dir", str(runs), "--follow", "--", sys.executable, "-c", env_probe)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    run = next(runs.iterdir())
    assert (run / "logs" / "stdout.log").read_text().split() == ["1", "1"]

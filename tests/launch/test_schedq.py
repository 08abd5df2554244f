"""Reading a queued SLURM run's status: only jobs that never started are asked about."""
from __future__ import annotations

from dataclasses import dataclass

from grokconsole.runs.lifecycle import RunState, effective_status
from grokconsole.runs import schedq


def test_settle_keeps_waiting_jobs_queued_and_gone_ones_crashed() -> None:
    state = RunState(status="queued", backend="slurm", job_id="7_1")
    assert schedq.settle("queued", state, {"7_1": "PENDING"}) == "queued"
    assert schedq.settle("queued", state, {"7_1": "RUNNING"}) == "queued"  # starting: run.json follows
    assert schedq.settle("queued", state, {"7_1": "CANCELLED"}) == "crashed"
    assert schedq.settle("queued", state, {}) == "crashed"  # neither squeue nor sacct knows it
    assert schedq.settle("queued", state, None) == "queued"  # no answer: not evidence of a crash
    assert schedq.settle("running", state, {}) == "running"
    assert schedq.settle("queued", RunState(status="queued"), {}) == "queued"  # local: not asked


def test_one_scheduler_call_for_every_queued_run(monkeypatch) -> None:
    calls: list[list[str]] = []

    def fake(argv: list[str]) -> str | None:
        calls.append(argv)
        return "3_0 RUNNING\n3_1 PENDING\n" if argv[0] == "squeue" else ""

    monkeypatch.setattr(schedq, "_run", fake)

    @dataclass
    class Rec:
        state: RunState
        status: str = "queued"

    recs = [Rec(RunState(status="queued", backend="slurm", job_id=j)) for j in ("3_0", "3_1", "3_2")]
    recs.append(Rec(RunState(status="running", backend="slurm", job_id="3_9"), "running"))
    schedq.settle_records(recs)
    assert [r.status for r in recs] == ["queued", "queued", "crashed", "running"]
    assert calls[0][0] == "squeue" and calls[0][-1] == "3_0,3_1,3_2"
    assert calls[1][0] == "sacct" and calls[1][-1] == "3_2" and len(calls) == 2


def test_a_single_id_is_passed_twice(monkeypatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(schedq, "_run", lambda argv: seen.append(argv) or "")
    schedq.scheduler_states(["5"])
    assert seen[0][-1] == "5,5"


def test_a_local_queue_without_its_scheduler_reads_crashed() -> None:
    alive = RunState(status="queued", backend="local", pid=None)
    assert effective_status(alive) == "queued"
    dead = RunState(status="queued", backend="local", pid=2**22 + 12345)
    assert effective_status(dead) == "crashed"

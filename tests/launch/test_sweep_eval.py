"""A sweep file's evaluation stage ([eval]): refused before launch like grok eval refuses, each
run's eval started when it finishes (never when it fails), re-runs start only missing evals."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from grokconsole.runs.evalfiles import EvalPaths
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.jsonio import write_json_atomic
from grokconsole.runs.lifecycle import read_run_state
from grokconsole.launch.backend import Job
from grokconsole.launch.localqueue import run_queue, write_queue
from grokconsole.launch.records import write_queued
from tests.launch.helpers import all_ended, grok, statuses, wait_until, write_sweep

EVAL = '\n[eval]\nsuites = ["operand_acc"]\ncheckpoints = "last"\n'


def _with_eval(path: Path, text: str = EVAL) -> Path:
    path.write_text(path.read_text() + text)
    return path


@pytest.mark.parametrize("table, message", [
    ('suites = ["nope"]', "[eval] unknown suite 'nope' for task 'modarith'; choose from operand_acc, operand_loss"),
    ('checkpoints = "sometimes"', "[eval] bad --checkpoints 'sometimes'"),
    ('checkpoints = "e50"', "[eval] checkpoints takes all, last or steps"),
    ('base_model = ["accuracy"]', "[eval] base_model evaluates an untuned language model; task 'modarith' has none"),
    ('shots = [1, 2]', "[eval] shots, icl_demos, icl_group, problems and batch are for language-model tasks"),
    ('suite = ["operand_acc"]', "[eval] unknown key 'suite'"),
])
def test_a_bad_eval_stage_is_one_line_and_creates_nothing(tmp_path: Path, table: str, message: str) -> None:
    runs = tmp_path / "runs"
    sweep = _with_eval(write_sweep(tmp_path / "s.toml", "bad", {"seed": [0, 1]}), f"\n[eval]\n{table}\n")
    res = grok("sweep", str(sweep), "-j", "2", "--runs-dir", str(runs))
    assert res.returncode == 2
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not runs.exists()


def test_base_model_suites_are_checked_for_the_language_model_task(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sweep = tmp_path / "s.toml"
    sweep.write_text('name = "ba"\ntask = "baseadd"\n[grid]\nbase = [8]\n[eval]\nsuites = ["accuracy"]\n'
                     'base_model = ["icl", "kshot"]\n')
    res = grok("sweep", str(sweep), "--runs-dir", str(runs))
    assert res.returncode == 2 and "unknown suite 'kshot' for task 'baseadd'" in res.stderr
    assert not runs.exists()


@pytest.mark.e2e
def test_each_run_is_evaluated_after_it_ends_and_a_rerun_starts_none(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sweep = _with_eval(write_sweep(tmp_path / "s.toml", "ev", {"seed": [0, 1]}, {"epochs": 30}))
    res = grok("sweep", str(sweep), "-j", "2", "--runs-dir", str(runs))
    assert res.returncode == 0, res.stderr
    assert "2 launched" in res.stdout and "eval: operand_acc of each run that finishes" in res.stdout
    wait_until(lambda: all_ended(runs), timeout=180)
    folders = [RunPaths(runs / r) for r in statuses(runs)]
    wait_until(lambda: all((EvalPaths(p).run_json.exists() and read_run_state(EvalPaths(p).root).status
                            not in ("queued", "running")) for p in folders), timeout=180)
    for paths in folders:
        run, ev = read_run_state(paths.root), read_run_state(EvalPaths(paths).root)
        assert run.status == "finished" and ev.status == "finished"
        assert ev.start >= run.end  # started once the run had ended
        (step,) = [p.name for p in EvalPaths(paths).by_checkpoint.iterdir()]  # "last": one checkpoint
        assert (EvalPaths(paths).by_checkpoint / step / "operand_acc.json").is_file()

    status = grok("sweep", "status", "ev", "--runs-dir", str(runs))
    assert status.returncode == 0 and "eval" in status.stdout
    assert status.stdout.count("finished") == 5  # the counts line, then each row: the run and its eval

    before = {p.run_id: EvalPaths(p).run_json.read_text() for p in folders}
    again = grok("sweep", str(sweep), "-j", "2", "--runs-dir", str(runs))
    assert again.returncode == 0 and "0 launched" in again.stdout and "due now" not in again.stdout
    assert {p.run_id: EvalPaths(p).run_json.read_text() for p in folders} == before

    # An eval that failed is due again, and only it.
    victim = folders[0]
    state = json.loads(EvalPaths(victim).run_json.read_text())
    write_json_atomic(EvalPaths(victim).run_json, {**state, "status": "failed", "exit_code": 1})
    dry = grok("sweep", str(sweep), "--runs-dir", str(runs), "--dry-run")
    assert f"would evaluate {victim.run_id}" in dry.stdout and "1 eval(s) due" in dry.stdout


def test_a_failed_run_gets_no_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The queue watches each run; one that ends failed is never evaluated, one that finishes is."""
    runs = tmp_path / "runs"
    jobs = []
    for name, code in (("bad", 3), ("good", 0)):
        paths = RunPaths(runs / name)
        paths.root.mkdir(parents=True)
        write_json_atomic(paths.config, {"run_id": name, "task": "modarith"})
        job = Job(paths, [sys.executable, "-c", f"import sys; sys.exit({code})"])
        write_queued(paths, job.kind, "local")
        jobs.append(job)
    queue = runs / ".sweeps" / "q.json"
    write_queue(queue, jobs, 2, eval_argv=["--checkpoints", "last", "--suite", "operand_acc"])
    assert run_queue(queue) == 0
    assert read_run_state(jobs[0].paths.root).status == "failed"
    assert read_run_state(jobs[1].paths.root).status == "finished"
    out = capsys.readouterr().out
    assert "bad: failed, so its eval is not started" in out
    # The finished one is due; its eval is refused by grok eval's own check (a command that saved
    # no checkpoint), which the queue logs.
    assert "eval of good not started: run good has no checkpoints" in out
    assert not EvalPaths(jobs[0].paths).root.exists() and not EvalPaths(jobs[1].paths).run_json.exists()


def test_base_addition_dry_run_lists_the_untuned_model_until_it_is_evaluated(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shipped = Path(__file__).resolve().parents[2] / "commands" / "base_addition.toml"
    dry = grok("sweep", str(shipped), "--runs-dir", str(runs), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "6 points: 6 to launch" in dry.stdout and "1 eval(s) due" in dry.stdout
    assert f"would evaluate the untuned model ({runs / 'base_models' / 'builtin'})" in dry.stdout
    assert not runs.exists()
    done = EvalPaths(RunPaths(runs / "base_models" / "builtin"))
    done.root.mkdir(parents=True)
    write_json_atomic(done.run_json, {"status": "finished", "kind": "eval", "exit_code": 0})
    again = grok("sweep", str(shipped), "--runs-dir", str(runs), "--dry-run")
    assert "would evaluate" not in again.stdout and "eval(s) due" not in again.stdout


@pytest.mark.e2e
def test_cancel_stops_a_running_eval(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sweep = _with_eval(write_sweep(tmp_path / "s.toml", "evc", {"seed": [0]},
                                   {"epochs": 200, "checkpoint_every": 1, "keep_checkpoints": 200}),
                       '\n[eval]\ncheckpoints = "all"\n')
    assert grok("sweep", str(sweep), "--runs-dir", str(runs)).returncode == 0
    (run,) = wait_until(lambda: list(statuses(runs)), timeout=30)
    paths = RunPaths(runs / run)
    wait_until(lambda: EvalPaths(paths).progress.exists(), timeout=240)  # evaluating checkpoints
    res = grok("sweep", "cancel", "evc", "--runs-dir", str(runs))
    assert res.returncode == 0, res.stderr
    assert "0 running stopped, 0 queued removed, 1 eval job(s) stopped" in res.stdout
    wait_until(lambda: read_run_state(EvalPaths(paths).root).status == "stopped", timeout=60)


def test_the_slurm_eval_job_evaluates_only_a_finished_run(tmp_path: Path) -> None:
    """afterok cannot tell a failed run from a finished one (the job wrapper ends well either way):
    the eval job reads the run's own record first."""
    from grokconsole.launch.slurm_job import run_eval_job

    paths = RunPaths(tmp_path / "runs" / "bad")
    paths.root.mkdir(parents=True)
    write_json_atomic(paths.config, {"run_id": "bad", "task": "modarith"})
    write_json_atomic(paths.run_json, {"status": "failed", "kind": "train", "exit_code": 1})
    assert run_eval_job(str(paths.root), ["--checkpoints", "last", "--suite", "operand_acc"]) == 0
    assert not EvalPaths(paths).root.exists()


def test_status_lists_the_untuned_models_eval(tmp_path: Path) -> None:
    """`grok sweep status` names the untuned model's evaluation of an `[eval] base_model` stage."""
    from tests.conftest import write_finished_run

    runs = tmp_path / "runs"
    for seed in (0, 1):
        write_finished_run(runs, f"20260101-00000{seed}-ba", [{"epoch": 2.5, "step": 250, "val_acc": 0.5}],
                           config={"task": "baseadd", "model_path": "", "sweep": "ba", "sweep_point": {"seed": seed},
                                   "max_steps": 300})
    (runs / "20260101-000000-ba" / "results" / "summary.json").write_text(json.dumps({"grokking_epoch": 2.0}))
    plain = grok("sweep", "status", "ba", "--runs-dir", str(runs))
    assert plain.returncode == 0 and "untuned model" not in plain.stdout
    row = next(line for line in plain.stdout.splitlines() if "20260101-000000-ba" in line)
    assert row.split()[-4:-1] == ["250", "0.500", "200"]   # step-counted: progress and grokking in steps
    folder = runs / "base_models" / "builtin"
    folder.mkdir(parents=True)
    write_json_atomic(folder / "model.json", {"model": "builtin", "task": "baseadd", "model_path": None})
    (folder / "eval").mkdir()
    write_json_atomic(folder / "eval" / "run.json", {"status": "finished", "kind": "eval", "exit_code": 0})
    status = grok("sweep", "status", "ba", "--runs-dir", str(runs))
    assert "untuned model builtin: eval finished" in status.stdout, status.stdout

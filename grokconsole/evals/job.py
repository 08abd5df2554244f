"""The ``grok eval`` process: ``python -m grokconsole.evals.job RUN_DIR [RUN_DIR ...] [options]``.

Several run folders are evaluated in turn by one process (the libraries load once), each with its
own lifecycle; a stop ends the job, the run at hand and those after it ending as ``stopped``.

It records its lifecycle (``eval/run.json``) and catches SIGTERM/SIGINT *before* importing
torch, so a stop that arrives while the libraries load still ends as ``stopped`` (not killed
mid-import and read as ``crashed``); the work itself is :func:`grokconsole.evals.runner.evaluate_run`.
Exit codes: 0 finished, 143 stopped, 1 failed.
"""
from __future__ import annotations

import sys
import traceback
from pathlib import Path

from grokconsole.runs.errors import is_disk_error
from grokconsole.runs.evalfiles import EvalPaths
from grokconsole.runs.jsonio import append_jsonl
from grokconsole.runs.lifecycle import Lifecycle, now_iso
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.signals import EXIT_STOPPED, StopFlag


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    dirs = [Path(a) for a in argv[:next((i for i, a in enumerate(argv) if a.startswith("--")), len(argv))]]
    options = argv[len(dirs):]
    if not dirs:
        print("usage: python -m grokconsole.evals.job RUN_DIR [RUN_DIR ...] [--checkpoints ...] [--suite ...]",
              file=sys.stderr)
        return 2
    stop = StopFlag()
    lives = []
    for run_dir in dirs:  # every run's job shows as running from the start
        ep = EvalPaths(RunPaths(run_dir))
        life = Lifecycle(ep.root, kind="eval")
        life.start()
        append_jsonl(ep.progress, {"event": "launched", "wall": now_iso()})
        lives.append((run_dir, ep, life))
    codes = [_evaluate(run_dir, ep, life, options, stop) for run_dir, ep, life in lives]
    return 1 if 1 in codes else (EXIT_STOPPED if EXIT_STOPPED in codes else 0)


def _evaluate(run_dir: Path, ep: EvalPaths, life: Lifecycle, options: list[str], stop: StopFlag) -> int:
    """One run's evaluation, its lifecycle ended here (a later run of the same job still runs)."""
    if stop.set:
        append_jsonl(ep.progress, {"event": "stop", "wall": now_iso()})
        life.end("stopped", EXIT_STOPPED)
        return EXIT_STOPPED
    try:
        from grokconsole.evals.request import EvalRequest
        from grokconsole.evals.runner import evaluate_run

        status = evaluate_run(run_dir, EvalRequest.from_argv(options), stop)
    except (Exception, SystemExit) as exc:  # a failed job (or a bad request) leaves a clear record
        traceback.print_exc()
        error = str(exc) if is_disk_error(exc) else f"{type(exc).__name__}: {exc}"
        _record_failure(ep, life, error)
        return 1
    code = EXIT_STOPPED if status == "stopped" else 0
    life.end(status, code)
    return code


def _record_failure(ep: EvalPaths, life: Lifecycle, error: str) -> None:
    """The crash event and the failed end record, each as far as the disk allows: on a full disk
    the event may not fit, and the end record (a small atomic rewrite of run.json) is what matters."""
    try:
        append_jsonl(ep.progress, {"event": "crash", "error": error, "wall": now_iso()})
    except OSError as exc:
        if not is_disk_error(exc):
            raise
    try:
        life.end("failed", 1, error=error)
    except OSError as exc:  # not even run.json: readers see the process gone (crashed)
        if not is_disk_error(exc):
            raise
        print(f"eval job: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

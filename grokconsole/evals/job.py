"""The ``grok eval`` process: ``python -m grokconsole.evals.job RUN_DIR [options]``.

It records its lifecycle (``eval/run.json``) and catches SIGTERM/SIGINT *before* importing
torch, so a stop that arrives while the libraries load still ends as ``stopped`` (not killed
mid-import and read as ``crashed``); the work itself is :func:`grokconsole.evals.runner.evaluate_run`.
Exit codes: 0 finished, 143 stopped, 1 failed.
"""
from __future__ import annotations

import sys
import traceback
from pathlib import Path

from grokconsole.core.evaljobs import EvalPaths
from grokconsole.core.jsonio import append_jsonl
from grokconsole.core.lifecycle import Lifecycle, now_iso
from grokconsole.core.runfolder import RunPaths
from grokconsole.core.signals import EXIT_STOPPED, StopFlag

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m grokconsole.evals.job RUN_DIR [--checkpoints ...] [--suite ...]", file=sys.stderr)
        return 2
    run_dir = Path(argv[0])
    ep = EvalPaths(RunPaths(run_dir))
    stop = StopFlag()
    life = Lifecycle(ep.root, kind="eval")
    life.start()
    append_jsonl(ep.progress, {"event": "launched", "wall": now_iso()})
    try:
        from grokconsole.evals.runner import EvalRequest, evaluate_run

        status = evaluate_run(run_dir, EvalRequest.from_argv(argv[1:]), stop)
    except (Exception, SystemExit) as exc:  # a failed job (or a bad request) leaves a clear record
        traceback.print_exc()
        append_jsonl(ep.progress, {"event": "crash", "error": f"{type(exc).__name__}: {exc}", "wall": now_iso()})
        life.end("failed", 1)
        return 1
    code = EXIT_STOPPED if status == "stopped" else 0
    life.end(status, code)
    return code


if __name__ == "__main__":
    sys.exit(main())

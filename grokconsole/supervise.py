"""Supervisor for ``grok run -- COMMAND``: owns ``run.json`` while any training command runs.

It starts the command with ``GROK_RUN_DIR`` set (so the command's Tracker writes into the
run folder), forwards SIGTERM/SIGINT to it, and records how it ended: exit 0 → finished,
a stop request → stopped, killed by a signal → crashed, any other exit → failed. At the end
it completes ``results/summary.json`` from the history if the command did not.
"""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from grokconsole.core.detection import DetectionConfig, analyze
from grokconsole.core.discovery import load_history
from grokconsole.core.jsonio import append_jsonl, read_json, write_json_atomic
from grokconsole.core.lifecycle import Lifecycle, now_iso
from grokconsole.core.runfolder import RunPaths
from grokconsole.core.summary import SummaryBuilder


def finish_summary(paths: RunPaths, status: str, exit_code: int) -> None:
    """Bring the summary up to date with the history and the final status."""
    config = read_json(paths.config, default={}) or {}
    rows = load_history(paths)
    builder = SummaryBuilder()
    builder.extend(rows)
    detection = analyze(rows, DetectionConfig.from_config(config))
    old = read_json(paths.summary, default={}) or {}
    fresh = builder.build(config, detection, status=status, wall_time=old.get("wall_time"))
    merged: dict[str, Any] = {**fresh, **{k: v for k, v in old.items() if k not in fresh or fresh[k] is None}}
    merged["status"] = status
    merged["exit_code"] = exit_code
    write_json_atomic(paths.summary, merged)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m grokconsole.supervise RUN_DIR -- COMMAND ARGS...", file=sys.stderr)
        return 2
    paths = RunPaths(Path(argv[0]))
    command = argv[2:]
    life = Lifecycle(paths.root, kind="command")
    life.start()
    stop_requested = False
    try:
        proc = subprocess.Popen(command)
    except OSError as exc:
        print(f"grok: cannot start {command[0]!r}: {exc.strerror}", file=sys.stderr, flush=True)
        append_jsonl(paths.events, {"event": "crash", "error": f"cannot start {command[0]}: {exc.strerror}",
                                    "wall": now_iso()})
        finish_summary(paths, "failed", 127)
        life.end("failed", 127)
        return 127

    def forward(signum: int, frame: Any) -> None:
        nonlocal stop_requested
        stop_requested = True
        proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = proc.wait()
    if stop_requested:
        status = "stopped"
    elif code == 0:
        status = "finished"
    elif code < 0:
        status = "crashed"
    else:
        status = "failed"
    if status in ("stopped", "crashed"):
        append_jsonl(paths.events, {"event": "stop" if status == "stopped" else "crash",
                                    "exit_code": code, "wall": now_iso()})
    exit_code = code if code >= 0 else 128 - code
    finish_summary(paths, status, exit_code)
    life.end(status, exit_code)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

"""``grok run --follow``: a progress bar with live metrics, tailing the history by byte offset."""
from __future__ import annotations

import time

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from grokconsole.cli.common import console, plain, visible
from grokconsole.runs.history import as_float
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.lifecycle import effective_status, read_run_state
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.schedq import PROBE
from grokconsole.runs.tail import JsonlTail
from grokconsole.views.taskviews import role_columns

POLL_SECONDS = 0.5
EVENT_LINES = {
    "memorization": "[bold]memorized[/] at epoch {epoch:g} (train acc ≥ threshold)",
    "generalization": "generalized at epoch {epoch:g}",
    "grokking": "[bold magenta]⚑ GROKKING detected[/] at epoch {epoch:g} (delay {delay:g} epochs after memorization)",
    "early_stop": "early stopping at epoch {epoch:g}",
    "resume": "resumed at epoch {epoch:g}",
    "crash": "[red]crash:[/] {error}",
    "diverged": "[bold red]diverged[/] at step {step} ({metric} {value}): the run ends failed",
}


def _metrics_text(row: dict, task: object = None) -> str:
    parts = []
    cols = role_columns(task)  # the task spec's train/val/OOD accuracy columns
    for key, label in ((cols["train"], "train"), (cols["val"], "val"), (cols["ood"], "ood"), ("irm_mean", "irm")):
        if key and key in row and row[key] is not None:
            parts.append(f"{label} {as_float(row[key]):.3f}")
    return "  ".join(parts)


def follow_run(paths: RunPaths) -> int:
    """Follow a run until it ends; returns its exit code (130 if the user detaches with Ctrl-C)."""
    config = read_json(paths.config, default={}) or {}
    # A run that ends by optimizer steps shows its progress in steps.
    by_steps = isinstance(config.get("max_steps"), int) and config["max_steps"] > 0
    total, counter = (config["max_steps"], "step") if by_steps else (config.get("epochs"), "epoch")
    task = config.get("task")
    history, events = JsonlTail(paths.history), JsonlTail(paths.events)
    progress = Progress(TextColumn("[bold]{task.fields[run]}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[metrics]}"), TimeElapsedColumn(), console=console,
                        refresh_per_second=4)
    try:
        with progress:
            bar = progress.add_task("train", total=total, run=escape(visible(paths.run_id)), metrics="starting…")
            while True:
                state = read_run_state(paths.root)
                status = PROBE.status(effective_status(state), state)
                if status == "queued":
                    progress.update(bar, metrics="queued…")
                for row in history.poll().rows:
                    progress.update(bar, completed=as_float(row.get(counter)), metrics=_metrics_text(row, task))
                for ev in events.poll().rows:
                    template = EVENT_LINES.get(str(ev.get("event")))
                    if template:
                        try:
                            progress.console.print(Text.from_markup(template.format_map(_Defaults(ev)), emoji=False))
                        except (ValueError, TypeError):
                            progress.console.print(plain(f"{ev.get('event')}: {ev}"))
                if status not in ("running", "queued"):
                    break
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        console.print(plain(f"detached; {paths.run_id} keeps running (grok ls, grok watch, grok stop {paths.run_id})"))
        return 130
    state = read_run_state(paths.root)
    status = PROBE.status(effective_status(state), state)
    summary = read_json(paths.summary, default={}) or {}
    line = f"{paths.run_id}: {status}"
    if summary.get("grokking_epoch") is not None:
        line += f", grokked at epoch {summary['grokking_epoch']:g}"
    console.print(plain(line))
    if status == "crashed":
        return 1
    return int(state.exit_code) if state and state.exit_code is not None else 1


class _Defaults(dict):
    """format_map helper: missing keys print as '?', numbers format with :g, and text from the
    events file is escaped (it is filled into markup)."""

    def __missing__(self, key: str) -> str:
        return "?"

    def __getitem__(self, key: str):
        value = super().get(key)
        if value is None:
            return _Q()
        if isinstance(value, str):
            return escape(visible(value))
        return value


class _Q(str):
    def __new__(cls) -> "_Q":
        return super().__new__(cls, "?")

    def __format__(self, spec: str) -> str:
        return "?"

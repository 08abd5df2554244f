"""``grok eval RUN --samples [SLICE …] [--wrong]``: a generation suite's per-sample log as a table.

So a researcher sees why an answer failed (the CoT trace the model wrote, what was read from it)
without opening ``<suite>.samples.jsonl.gz``. The step is the last one with samples (or the ones
``--checkpoints`` names), every suite with samples unless ``--suite``; SLICE is a slice name or a
shell pattern (``k8_*_cot``). Torch-free.
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from grokconsole.cli.common import console, plain, visible
from grokconsole.evals.request import parse_checkpoints, resolve_epochs
from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import EvalPaths, step_dirs
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.samples import SAMPLES_SUFFIX, read_samples, suite_of

PROMPT_CHARS = 60  # of a prompt's last line (the query) shown; its demonstrations are counted, not shown


def sample_files(paths: RunPaths) -> dict[int, dict[str, Path]]:
    """step → suite → samples file, for every evaluated step that has one."""
    out: dict[int, dict[str, Path]] = {}
    for step, folder in step_dirs(EvalPaths(paths).by_checkpoint):
        files = {suite_of(f): f for f in sorted(folder.glob(f"*{SAMPLES_SUFFIX}"))}
        if files:
            out[step] = files
    return out


def _steps(paths: RunPaths, found: dict[int, dict[str, Path]], checkpoints: str) -> list[int]:
    spec = parse_checkpoints(checkpoints)
    if spec.kind in ("all", "last"):
        return [max(found)]
    spec = resolve_epochs(paths, spec)
    missing = [s for s in spec.steps if s not in found]
    if missing:
        raise GrokError(f"{paths.run_id} has no samples at step {missing[0]}; steps with samples: "
                        f"{', '.join(str(s) for s in found)}")
    return list(spec.steps)


def _matches(name: str, patterns: list[str]) -> bool:
    return not patterns or any(name == p or fnmatchcase(name, p) for p in patterns)


def _prompt(prompt: str) -> str:
    """The query (the prompt's last line), shortened, after the number of lines before it."""
    lines = prompt.split("\n")
    query = lines[-1] if len(lines[-1]) <= PROMPT_CHARS else "…" + lines[-1][-PROMPT_CHARS:]
    return (f"[dim]{len(lines) - 1} demos ·[/] " if len(lines) > 1 else "") + escape(visible(query))


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=plain(title), title_justify="left", title_style="bold", header_style="bold")
    for column in ("slice", "prompt", "answer", "output", "parsed", ""):
        table.add_column(column, overflow="fold")
    for rec in rows:
        ok = bool(rec.get("correct"))
        table.add_row(plain(rec.get("slice", "")), _prompt(str(rec.get("prompt", ""))),
                      plain(rec.get("answer", "")), plain(rec.get("output", "")),
                      plain(rec.get("parsed", "")), "[green]✓[/]" if ok else "[red]✗[/]")
    return table


def show_samples(paths: RunPaths, checkpoints: str, suites: list[str] | None, patterns: list[str],
                 wrong: bool) -> None:
    """Print the chosen samples, one table per step and suite; GrokError when there is nothing to show."""
    found = sample_files(paths)
    if not found:
        raise GrokError(f"{paths.run_id} has no per-sample logs: the language-model suites write them "
                        f"(grok eval {paths.run_id} --suite accuracy)")
    for step in _steps(paths, found, checkpoints):
        files = found[step]
        unknown = [s for s in suites or [] if s not in files]
        if unknown:
            raise GrokError(f"no samples of suite {unknown[0]!r} at step {step}; suites with samples: "
                            f"{', '.join(files)}")
        for suite in suites or list(files):
            records = read_samples(files[suite])
            chosen = [r for r in records if _matches(str(r.get("slice")), patterns)]
            if patterns and not chosen:
                slices = list(dict.fromkeys(str(r.get("slice")) for r in records))
                raise GrokError(f"no slice of {suite} at step {step} matches {', '.join(patterns)}; "
                                f"slices: {', '.join(slices)}")
            shown = [r for r in chosen if not (wrong and r.get("correct"))]
            right = sum(1 for r in chosen if r.get("correct"))
            console.print(_table(f"{paths.run_id} · step {step} · {suite}", shown))
            console.print(f"{len(shown)} shown; {right} of {len(chosen)} right"
                          + (" (only the wrong ones shown)" if wrong else ""))

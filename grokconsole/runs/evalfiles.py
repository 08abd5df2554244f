"""The eval results inside a run folder: where an eval job writes, its lifecycle, reading results back.

Pure Python, so ``grok ls``/``grok stop``/``grok watch`` and the figures can see an eval job and read
its results without loading a model. An eval job owns ``runs/<run>/eval/run.json`` (its own
lifecycle, never the training run's ``run.json``), logs to ``eval/logs/`` and appends progress
to ``eval/progress.jsonl``. Results: ``eval/by_checkpoint/step_<STEP>/<suite>.json`` (and, for a
generation suite, its per-sample log ``<suite>.samples.jsonl.gz``, :mod:`grokconsole.runs.samples`);
interventions: ``mechinterp/m4_ablation_avgpool_trajectory.json`` and
``mechinterp/m5_steering_epoch<E>.json``. :func:`step_dirs` is the one walk over the step folders.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.lifecycle import RunState, effective_status, read_run_state
from grokconsole.runs.samples import is_samples_file, samples_path

DIRECTIONS = ("higher", "lower")  # which way a metric or a suite's values are better
EVAL_DIR = "eval"  # inside a run folder
BY_CHECKPOINT = "by_checkpoint"
M4_FILE = "m4_ablation_avgpool_trajectory.json"
M5_FILE = "m5_steering_epoch{epoch}.json"
M5_GLOB = "m5_steering_*.json"
_STEP_DIR = re.compile(r"^step_(\d+)$")


def step_dirs(by_checkpoint: Path) -> list[tuple[int, Path]]:
    """The ``step_<N>`` folders under a ``by_checkpoint`` folder, by step (others are ignored)."""
    base = Path(by_checkpoint)
    if not base.is_dir():
        return []
    found = []
    for entry in base.iterdir():
        m = _STEP_DIR.match(entry.name)
        if m and entry.is_dir():
            found.append((int(m.group(1)), entry))
    return sorted(found)


@dataclass(frozen=True)
class EvalPaths:
    """Every path an eval job of one run uses."""

    run: RunPaths

    @property
    def root(self) -> Path:
        return self.run.root / EVAL_DIR

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def request(self) -> Path:
        return self.root / "request.json"

    @property
    def progress(self) -> Path:
        return self.root / "progress.jsonl"

    @property
    def by_checkpoint(self) -> Path:
        return self.root / BY_CHECKPOINT

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def stdout_log(self) -> Path:
        return self.logs / "stdout.log"

    @property
    def stderr_log(self) -> Path:
        return self.logs / "stderr.log"

    @property
    def mechinterp(self) -> Path:
        return self.run.root / "mechinterp"

    @property
    def m4(self) -> Path:
        return self.mechinterp / M4_FILE

    def m5(self, epoch: int) -> Path:
        return self.mechinterp / M5_FILE.format(epoch=epoch)

    def step_dir(self, step: int) -> Path:
        return self.by_checkpoint / f"step_{step}"

    def suite_file(self, step: int, suite: str) -> Path:
        return self.step_dir(step) / f"{suite}.json"

    def samples_file(self, step: int, suite: str) -> Path:
        """The suite's per-sample log beside its result (generation suites write one)."""
        return samples_path(self.step_dir(step), suite)


def eval_state(run: RunPaths) -> RunState | None:
    """The eval job's lifecycle record, or None when the run was never evaluated."""
    return read_run_state(EvalPaths(run).root)


def eval_status(run: RunPaths) -> str | None:
    """``running``/``finished``/``failed``/``stopped``/``crashed`` of the run's eval job, or None."""
    state = eval_state(run)
    return effective_status(state) if state is not None else None


def eval_badge(run: RunPaths) -> str:
    """A short note for listings: ``eval running`` / ``eval failed`` / ``eval crashed``, else ''."""
    try:
        status = eval_status(run)
    except GrokError:  # a malformed or unreadable eval/run.json must not cost the listing
        return "eval unreadable"
    return f"eval {status}" if status in ("running", "failed", "crashed") else ""


@dataclass
class SuiteTable:
    """One suite of one run across checkpoints: ``values[step][slice]``."""

    suite: str
    metric: str = ""
    direction: str = "higher"
    values: dict[int, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)

    @property
    def steps(self) -> list[int]:
        return sorted(self.values)

    @property
    def slices(self) -> list[str]:
        seen: dict[str, None] = {}
        for step in self.steps:
            seen.update(dict.fromkeys(self.values[step]))
        return list(seen)


def validate_suite_file(data: Any, path: Path) -> dict[str, Any]:
    """Check the ``{metric, direction, results: {slice: {value, n, domain}}}`` shape."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise GrokError(f"malformed eval result {path}: expected an object with 'results'")
    if data.get("direction") not in DIRECTIONS:
        raise GrokError(f"malformed eval result {path}: direction must be 'higher' or 'lower'")
    for name, rec in data["results"].items():
        if not isinstance(rec, dict) or "value" not in rec:
            raise GrokError(f"malformed eval result {path}: slice {name!r} has no value")
    return data


def load_suite_tables(eval_root: Path) -> dict[str, SuiteTable]:
    """Every suite under ``<eval_root>/by_checkpoint`` (a run's ``eval`` folder or any such folder)."""
    tables: dict[str, SuiteTable] = {}
    for step, step_dir in step_dirs(Path(eval_root) / BY_CHECKPOINT):
        for f in sorted(step_dir.glob("*.json")):
            if is_samples_file(f):  # a suite's per-sample log is not a result
                continue
            data = validate_suite_file(read_json(f), f)
            table = tables.setdefault(f.stem, SuiteTable(suite=f.stem))
            table.metric = str(data.get("metric", table.metric or f.stem))
            table.direction = str(data["direction"])
            row: dict[str, float] = {}
            for name, rec in data["results"].items():
                value = rec.get("value")
                row[name] = float("nan") if value is None else float(value)
                if rec.get("n") is not None:
                    table.counts[name] = int(rec["n"])
                table.domains[name] = str(rec.get("domain") or "all")
            table.values[step] = row
    return tables

"""Evaluation jobs of a run: where they write, which suites exist, how to read their results.

Pure Python (no torch), so the CLI can validate a request and ``grok ls``/``grok stop`` can see
an eval job without loading a model. An eval job owns ``runs/<run>/eval/run.json`` (its own
lifecycle, never the training run's ``run.json``), logs to ``eval/logs/`` and appends progress
to ``eval/progress.jsonl``. Results: ``eval/by_checkpoint/step_<STEP>/<suite>.json``;
interventions: ``mechinterp/m4_ablation_avgpool_trajectory.json`` and
``mechinterp/m5_steering_epoch<E>.json``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.core.checkpoint_files import LATEST, periodic_checkpoints
from grokconsole.core.discovery import load_history
from grokconsole.core.errors import GrokError
from grokconsole.core.jsonio import read_json
from grokconsole.core.llmevals import GenerationOptions
from grokconsole.core.lifecycle import RunState, effective_status, read_run_state
from grokconsole.core.runfolder import RunPaths
from grokconsole.core.taskspec import SuiteSpec
from grokconsole.tasks import all_specs, find_spec

DIRECTIONS = ("higher", "lower")
INTERVENTIONS = ("m4", "m5")
DEFAULT_ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
EVAL_DIR = "eval"  # inside a run folder
M4_FILE = "m4_ablation_avgpool_trajectory.json"
M5_FILE = "m5_steering_epoch{epoch}.json"
M5_GLOB = "m5_steering_*.json"
_STEP_DIR = re.compile(r"^step_(\d+)$")



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
        return self.root / "by_checkpoint"

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


@dataclass(frozen=True)
class CheckpointSpec:
    """``all`` | ``last`` | explicit steps (and epochs, until :func:`resolve_epochs` turns them into steps)."""

    kind: str  # "all" | "last" | "steps"
    steps: tuple[int, ...] = ()
    epochs: tuple[int, ...] = ()

    def as_arg(self) -> str:
        if self.epochs:
            raise ValueError("epochs must be resolved to steps first (resolve_epochs)")
        return ",".join(str(s) for s in self.steps) if self.kind == "steps" else self.kind


def parse_checkpoints(text: str) -> CheckpointSpec:
    """Parse ``--checkpoints``: ``all``, ``last``, or a comma list of steps (``200``, ``step_200``)
    and epochs (``e50``, ``epoch50``)."""
    value = (text or "").strip().lower()
    if value in ("all", "last"):
        return CheckpointSpec(value)
    steps: list[int] = []
    epochs: list[int] = []
    for part in value.split(","):
        part = part.strip()
        is_epoch = bool(re.match(r"^(epoch|e)\d+$", part))
        digits = re.sub(r"^(epoch|e|step_)", "", part)
        if not digits.isdigit():
            raise GrokError(f"bad --checkpoints {text!r}: use all, last, steps like 100,200 "
                            "(as in checkpoints/step_<STEP>.pt) or epochs like e50,e100")
        (epochs if is_epoch else steps).append(int(digits))
    return CheckpointSpec("steps", tuple(sorted(set(steps))), tuple(sorted(set(epochs))))


def resolve_epochs(run: RunPaths, spec: CheckpointSpec) -> CheckpointSpec:
    """Turn requested epochs into steps through the training history (a checkpoint is saved
    together with an evaluation row, which records both)."""
    if not spec.epochs:
        return spec
    by_epoch: dict[float, int] = {}
    for row in load_history(run):
        if row.get("epoch") is not None and row.get("step") is not None:
            by_epoch.setdefault(float(row["epoch"]), int(row["step"]))
    steps = set(spec.steps)
    for epoch in spec.epochs:
        if float(epoch) not in by_epoch:
            raise GrokError(f"run {run.run_id} has no history row at epoch {epoch}, so no checkpoint of it")
        steps.add(by_epoch[float(epoch)])
    return CheckpointSpec("steps", tuple(sorted(steps)))


def parse_interventions(text: str | None) -> tuple[str, ...]:
    """Parse ``--intervene m4,m5``."""
    if not text:
        return ()
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    bad = [n for n in names if n not in INTERVENTIONS]
    if bad or not names:
        raise GrokError(f"bad --intervene {text!r}: choose from {', '.join(INTERVENTIONS)}")
    return tuple(dict.fromkeys(names))


def parse_alphas(text: str | None) -> tuple[float, ...]:
    """Parse ``--alphas -3,-1,0,1,3`` (steering coefficients in σ units)."""
    if not text:
        return DEFAULT_ALPHAS
    try:
        values = tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise GrokError(f"bad --alphas {text!r}: use comma-separated numbers like -3,-1,0,1,3") from None
    if not values or any(v != v or abs(v) == float("inf") for v in values):
        raise GrokError(f"bad --alphas {text!r}: use comma-separated finite numbers")
    return values


def eval_argv(spec: CheckpointSpec, suites: tuple[str, ...], interventions: tuple[str, ...] = (),
              alphas: tuple[float, ...] = DEFAULT_ALPHAS, steer_step: int | None = None,
              force: bool = False, device: str = "auto", generation: GenerationOptions | None = None) -> list[str]:
    """The eval runner's command-line options for a request (parsed back by the runner)."""
    # "--alphas=…" in one word: argparse would take a leading "-3" for an option.
    argv = ["--checkpoints", spec.as_arg(), "--alphas=" + ",".join(repr(float(a)) for a in alphas)]
    for s in suites:
        argv += ["--suite", s]
    if interventions:
        argv += ["--intervene", ",".join(interventions)]
    if steer_step is not None:
        argv += ["--steer-step", str(steer_step)]
    if force:
        argv.append("--force")
    if device != "auto":
        argv += ["--device", device]
    if generation is not None:
        argv += generation.argv()
    return argv


def task_suites(task: str) -> dict[str, SuiteSpec]:
    """The suites a task's spec declares, by name (empty for a task without any, e.g. a ``-- COMMAND`` run)."""
    spec = find_spec(task)
    return {s.name: s for s in spec.suites} if spec is not None else {}


def intervenable_tasks() -> tuple[str, ...]:
    """Tasks whose spec declares ``features`` (environments and an OOD split: M4/M5 apply)."""
    return tuple(name for name, spec in all_specs().items() if spec.can("features"))


def check_interventions(task: str, run_id: str) -> None:
    """GrokError unless the run's task supports the M4/M5 feature interventions."""
    spec = find_spec(task)
    if spec is None or not spec.can("features"):
        raise GrokError(f"--intervene needs a task with environments and an OOD split "
                        f"({', '.join(intervenable_tasks())}); run {run_id} is {task!r}")


def resolve_suites(task: str, wanted: list[str] | None) -> tuple[str, ...]:
    """The suites to run: all of the task's by default; unknown names are a GrokError."""
    known = task_suites(task)
    if not known:
        with_suites = [name for name, spec in all_specs().items() if spec.suites]
        raise GrokError(f"task {task!r} has no evaluation suites (tasks with suites: {', '.join(with_suites)})")
    if not wanted:
        return tuple(known)
    bad = [s for s in wanted if s not in known]
    if bad:
        raise GrokError(f"unknown suite {bad[0]!r} for task {task!r}; choose from {', '.join(known)}")
    return tuple(dict.fromkeys(wanted))


def check_checkpoints(run: RunPaths, spec: CheckpointSpec) -> None:
    """Fail early (GrokError) when the run has nothing to evaluate or lacks a requested step."""
    files = dict(periodic_checkpoints(run.checkpoints))
    latest = run.latest_checkpoint.exists()
    if not files and not latest:
        raise GrokError(f"run {run.run_id} has no checkpoints in {run.checkpoints}")
    if spec.kind == "steps":
        missing = [s for s in spec.steps if s not in files]
        if missing:
            have = ", ".join(str(s) for s in files) or f"none (only {LATEST})"
            raise GrokError(f"run {run.run_id} has no checkpoint for step {missing[0]}; kept steps: {have}")


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
    base = Path(eval_root) / "by_checkpoint"
    tables: dict[str, SuiteTable] = {}
    if not base.is_dir():
        return tables
    for step_dir in sorted(base.iterdir()):
        m = _STEP_DIR.match(step_dir.name)
        if not m or not step_dir.is_dir():
            continue
        step = int(m.group(1))
        for f in sorted(step_dir.glob("*.json")):
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

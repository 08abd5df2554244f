"""A ``grok eval`` request: parsing and checking what was asked, before any model loads.

Pure Python (no torch), so the CLI, the sweep file and the console validate a request in
milliseconds. Where the job writes and how results are read back is the run folder's business
(:mod:`grokconsole.runs.evalfiles`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from grokconsole.runs.checkpoint_files import LATEST, periodic_checkpoints
from grokconsole.runs.history import load_history
from grokconsole.runs.errors import GrokError
from grokconsole.tasks.generation import GenerationOptions
from grokconsole.runs.folder import RunPaths
from grokconsole.tasks.spec import SuiteSpec
from grokconsole.tasks.registry import all_specs, find_spec

INTERVENTIONS = ("m4", "m5")
DEFAULT_ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)


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



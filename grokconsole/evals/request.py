"""A ``grok eval`` request: parsing and checking what was asked, before any model loads, and
:class:`EvalRequest`, the request itself, encoded as the job's command line and decoded by the job.

Pure Python (no torch), so the CLI, the sweep file and the console validate a request in
milliseconds. Where the job writes and how results are read back is the run folder's business
(:mod:`grokconsole.runs.evalfiles`).
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

from grokconsole.runs.checkpoint_files import LATEST, periodic_checkpoints
from grokconsole.runs.history import load_history
from grokconsole.runs.errors import GrokError
from grokconsole.tasks.generation import (DEFAULT_BATCH, DEFAULT_ICL_GROUP, DEFAULT_PROBLEMS, ICL_DEMOS,
                                           GenerationOptions, parse_shots)
from grokconsole.runs.folder import RunPaths
from grokconsole.tasks.spec import SuiteSpec
from grokconsole.tasks.registry import all_specs, can, find_spec, tasks_that_can

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


@dataclass(frozen=True)
class EvalRequest:
    """What one eval job does. Encoded as the job's command line by :meth:`to_argv` and decoded by
    :meth:`from_argv`, here together, so the two cannot drift apart."""

    checkpoints: CheckpointSpec
    suites: tuple[str, ...]
    interventions: tuple[str, ...] = ()
    alphas: tuple[float, ...] = DEFAULT_ALPHAS
    steer_step: int | None = None
    force: bool = False
    device: str = "auto"  # not the run's device: a GPU-trained run can be evaluated on a CPU
    generation: GenerationOptions | None = None  # language-model suites (None: the defaults, not sent)

    def to_argv(self) -> list[str]:
        """The job's command-line options for this request."""
        # "--alphas=…" in one word: argparse would take a leading "-3" for an option.
        argv = ["--checkpoints", self.checkpoints.as_arg(),
                "--alphas=" + ",".join(repr(float(a)) for a in self.alphas)]
        for s in self.suites:
            argv += ["--suite", s]
        if self.interventions:
            argv += ["--intervene", ",".join(self.interventions)]
        if self.steer_step is not None:
            argv += ["--steer-step", str(self.steer_step)]
        if self.force:
            argv.append("--force")
        if self.device != "auto":
            argv += ["--device", self.device]
        g = self.generation
        if g is not None:
            argv += ["--problems", str(g.n_problems), "--shots", ",".join(str(k) for k in g.shots),
                     "--gen-batch", str(g.batch_size), "--icl-demos", g.icl_demos, "--icl-group", str(g.icl_group)]
        return argv

    @classmethod
    def from_argv(cls, argv: list[str]) -> "EvalRequest":
        """The request :meth:`to_argv` encoded (argparse exits 2 on options it does not know)."""
        ap = argparse.ArgumentParser(prog="grokconsole.evals.job")
        ap.add_argument("--checkpoints", default="all")
        ap.add_argument("--suite", action="append", default=[])
        ap.add_argument("--intervene", default="")
        ap.add_argument("--alphas", default="")
        ap.add_argument("--steer-step", type=int, default=None)
        ap.add_argument("--force", action="store_true")
        ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
        ap.add_argument("--problems", type=int, default=None)
        ap.add_argument("--shots", default=None)
        ap.add_argument("--gen-batch", type=int, default=None)
        ap.add_argument("--icl-demos", default=None, choices=ICL_DEMOS)
        ap.add_argument("--icl-group", type=int, default=None)
        a = ap.parse_args(argv)
        knobs = (a.problems, a.shots, a.gen_batch, a.icl_demos, a.icl_group)
        generation = None if all(k is None for k in knobs) else GenerationOptions(
            DEFAULT_PROBLEMS if a.problems is None else a.problems, parse_shots(a.shots), a.icl_demos or "plain",
            DEFAULT_BATCH if a.gen_batch is None else a.gen_batch,
            DEFAULT_ICL_GROUP if a.icl_group is None else a.icl_group)
        return cls(parse_checkpoints(a.checkpoints), tuple(a.suite), parse_interventions(a.intervene),
                   parse_alphas(a.alphas), a.steer_step, a.force, a.device, generation)


def task_suites(task: str) -> dict[str, SuiteSpec]:
    """The suites a task's spec declares, by name (empty for a task without any, e.g. a ``-- COMMAND`` run)."""
    spec = find_spec(task)
    return {s.name: s for s in spec.suites} if spec is not None else {}


def intervenable_tasks() -> tuple[str, ...]:
    """Tasks whose spec declares ``features`` (environments and an OOD split: M4/M5 apply)."""
    return tasks_that_can("features")


def check_interventions(task: str, run_id: str) -> None:
    """GrokError unless the run's task supports the M4/M5 feature interventions."""
    if not can(task, "features"):
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



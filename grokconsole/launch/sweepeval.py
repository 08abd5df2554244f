"""A sweep file's evaluation stage, ``[eval]``: what ``grok eval`` does to every run of the grid
when it ends, and once per sweep to the untuned model.

::

    [eval]
    suites = ["accuracy"]            # grok eval RUN --suite accuracy (default: all of the task's)
    checkpoints = "last"             # "all" | "last" | a list of steps
    base_model = ["accuracy", "icl"] # grok eval --base-model --suite … (language-model tasks)
    shots = [1, 2, 4, 8]             # --shots; also problems, batch, icl_demos, icl_group, device

The table is turned into the ``grok eval`` options it stands for and checked by the same parsers
(:mod:`grokconsole.evals.request`, :mod:`grokconsole.tasks.generation`), against every prepared
point, before anything launches: the sweep and the command line cannot disagree on what a request
means. The result is :class:`EvalPlan`: one :class:`EvalRequest` for the runs and one
:class:`BaseEval` per untuned model the runs were tuned from.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grokconsole.evals.base_folder import base_model_folder, task_generates, write_model_file
from grokconsole.evals.request import CheckpointSpec, EvalRequest, parse_checkpoints, resolve_suites
from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import eval_status
from grokconsole.runs.folder import RunPaths
from grokconsole.tasks.generation import (DEFAULT_BATCH, DEFAULT_ICL_GROUP, DEFAULT_PROBLEMS, GenerationOptions,
                                          check_icl_fits, check_icl_group, check_problems, parse_icl_demos,
                                          parse_shots)
from grokconsole.tasks.registry import task_spec

EVAL_KEYS = ("suites", "checkpoints", "base_model", "shots", "icl_demos", "icl_group", "problems", "batch", "device")
GENERATION_KEYS = ("shots", "icl_demos", "icl_group", "problems", "batch")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class EvalStage:
    """The ``[eval]`` table, parsed: the options of ``grok eval`` it stands for."""

    suites: tuple[str, ...]          # empty: all of the task's
    checkpoints: CheckpointSpec
    base_model: tuple[str, ...]      # suites for the untuned model; empty: it is not evaluated
    generation: GenerationOptions
    asked_generation: bool           # a generation option was written (refused for other tasks)
    device: str = "auto"


@dataclass(frozen=True)
class BaseEval:
    """One untuned model's evaluation: its results folder and the request."""

    model_path: str | None           # None: the built-in model
    task: str
    paths: RunPaths
    request: EvalRequest


@dataclass(frozen=True)
class EvalPlan:
    """What the stage asks of this sweep: the request for each run that finishes, and the base models."""

    run_request: EvalRequest
    base: tuple[BaseEval, ...]


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
        raise GrokError(f"{where}: [eval] {key} must be a list of suite names, got {value!r}")
    return tuple(dict.fromkeys(items))


def _checkpoints(value: Any, where: str) -> CheckpointSpec:
    """``"all"``, ``"last"`` or a list of steps, read by ``grok eval --checkpoints``'s own parser."""
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        text = ",".join(str(v) for v in value)
    elif isinstance(value, str):
        text = value
    else:
        raise GrokError(f"{where}: [eval] checkpoints must be \"all\", \"last\" or a list of steps, got {value!r}")
    try:
        spec = parse_checkpoints(text)
    except GrokError as exc:
        raise GrokError(f"{where}: [eval] {exc}") from None
    if spec.epochs:
        raise GrokError(f"{where}: [eval] checkpoints takes all, last or steps (epochs differ from run to run)")
    return spec


def _int(table: dict[str, Any], key: str, default: int, where: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise GrokError(f"{where}: [eval] {key} must be an integer, got {value!r}")
    return value


def _generation(table: dict[str, Any], where: str) -> GenerationOptions:
    shots = table.get("shots")
    if shots is not None and not (isinstance(shots, list) and all(isinstance(k, int) and not isinstance(k, bool)
                                                                  for k in shots)):
        raise GrokError(f"{where}: [eval] shots must be a list of numbers of demonstrations, got {shots!r}")
    demos = table.get("icl_demos", "plain")
    if not isinstance(demos, str):
        raise GrokError(f"{where}: [eval] icl_demos must be plain, cot or both, got {demos!r}")
    try:
        return GenerationOptions(check_problems(_int(table, "problems", DEFAULT_PROBLEMS, where)),
                                 parse_shots(",".join(str(k) for k in shots) if shots is not None else None),
                                 parse_icl_demos(demos, False), max(1, _int(table, "batch", DEFAULT_BATCH, where)),
                                 check_icl_group(_int(table, "icl_group", DEFAULT_ICL_GROUP, where)))
    except GrokError as exc:
        raise GrokError(f"{where}: [eval] {exc}") from None


def parse_eval(table: Any, where: str) -> EvalStage | None:
    """The ``[eval]`` table (None when the file has none); GrokError with one line on a bad value."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise GrokError(f"{where}: [eval] must be a table")
    unknown = [k for k in table if k not in EVAL_KEYS]
    if unknown:
        raise GrokError(f"{where}: [eval] unknown key {unknown[0]!r}; known: {', '.join(EVAL_KEYS)}")
    device = table.get("device", "auto")
    if device not in DEVICES:
        raise GrokError(f"{where}: [eval] device must be one of {', '.join(DEVICES)}, got {device!r}")
    base = table.get("base_model", [])
    return EvalStage(_strings(table.get("suites", []), "suites", where),
                     _checkpoints(table.get("checkpoints", "all"), where),
                     _strings(base, "base_model", where) if base != [] else (),
                     _generation(table, where), any(k in table for k in GENERATION_KEYS), str(device))


def plan_eval(stage: EvalStage, configs: list[dict[str, Any]], runs_dir: Path, where: str) -> EvalPlan:
    """Check the stage against every point's resolved config (the checks ``grok eval`` makes of one
    run, made before any run exists) and build the requests. One task per sweep with ``[eval]``."""
    tasks = sorted({str(c.get("task", "")) for c in configs})
    if len(tasks) != 1:
        raise GrokError(f"{where}: [eval] needs one task for the whole sweep, the grid has {', '.join(tasks)}")
    task = tasks[0]
    generates = task_generates(task)
    if stage.asked_generation and not generates:
        raise GrokError(f"{where}: [eval] shots, icl_demos, icl_group, problems and batch are for language-model "
                        f"tasks, not {task!r}")
    if stage.base_model and not generates:
        raise GrokError(f"{where}: [eval] base_model evaluates an untuned language model; task {task!r} has none")
    try:
        suites = resolve_suites(task, list(stage.suites))
        generation = stage.generation if generates else None
        if generation is not None and "icl" in suites:
            for config in configs:
                check_icl_fits(task_spec(task), config, generation)
        run_request = EvalRequest(stage.checkpoints, suites, device=stage.device, generation=generation)
        base = tuple(_base_eval(stage, task, model, runs_dir) for model in
                     dict.fromkeys(c.get("model_path") or None for c in configs)) if stage.base_model else ()
    except GrokError as exc:
        raise GrokError(f"{where}: [eval] {exc}") from None
    return EvalPlan(run_request, base)


def _base_eval(stage: EvalStage, task: str, model: str | None, runs_dir: Path) -> BaseEval:
    """The untuned model the runs were tuned from, evaluated as ``grok eval --base-model`` would."""
    suites = resolve_suites(task, list(stage.base_model))
    if "icl" in suites:
        check_icl_fits(task_spec(task), {"model_path": model}, stage.generation)
    paths = base_model_folder(model, None, runs_dir, task)
    request = EvalRequest(CheckpointSpec("all"), suites, device=stage.device, generation=stage.generation)
    return BaseEval(model, task, paths, request)


# An eval whose last job ended so is started again by a re-run of the sweep file (as runs are).
RESTART = ("failed", "crashed")


def missing_evals(finished: list[RunPaths], plan: EvalPlan) -> list[tuple[RunPaths, list[str]]]:
    """The evals a re-run of the file starts at once: of runs that finished before (``finished``)
    and of the untuned models, those never evaluated or whose eval job failed or crashed. An eval
    that finished, runs, or was stopped is left alone."""
    due = [(paths, plan.run_request.to_argv()) for paths in finished]
    due += [(base.paths, base.request.to_argv()) for base in plan.base]
    return [(paths, argv) for paths, argv in due if eval_status(paths) in (None, *RESTART)]


def create_base_folders(evals: list[tuple[RunPaths, list[str]]], plan: EvalPlan) -> None:
    """Write ``model.json`` into each untuned model's results folder about to be evaluated (after
    every check: a refused sweep creates nothing)."""
    starting = {paths.root for paths, _ in evals}
    for base in plan.base:
        if base.paths.root in starting:
            write_model_file(base.paths.root, base.model_path, base.task)


def eval_target(paths: RunPaths) -> str:
    """How logs and listings name what an eval is of: the run, or the untuned model's folder."""
    return paths.run_id if paths.config.exists() else f"the untuned model ({paths.root})"

"""The evaluation work of a ``grok eval`` job (the process itself is ``grokconsole.evals.job``).

One loop for every task: :func:`evaluate_run` visits the chosen checkpoints, asks the run's
:class:`~grokconsole.evals.checkpoints.Evaluator` to evaluate each, and appends the job's
progress to ``eval/progress.jsonl`` (``start``, one ``checkpoint`` event per step, ``stop`` or
``end``). What differs from one kind of task to another comes from the task's spec: a task that
``generate``\\ s text (or a base-model folder) is evaluated by its generation suites
(:mod:`~grokconsole.evals.generation_evaluator`), any other on its labelled splits, with the
M4/M5 interventions where asked (:mod:`~grokconsole.evals.split_evaluator`). The job owns
``runs/<run>/eval/run.json`` (never the training run's). SIGTERM stops it after the checkpoint
at hand.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from grokconsole.evals.checkpoints import Evaluator, StepOutcome
from grokconsole.evals.request import EvalRequest
from grokconsole.runs.base_models import is_base_eval_folder
from grokconsole.runs.evalfiles import EvalPaths
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.jsonio import append_jsonl, read_json
from grokconsole.runs.lifecycle import now_iso
from grokconsole.tasks.registry import can

__all__ = ["EvalRequest", "evaluate_run", "open_evaluator"]


def open_evaluator(run: RunPaths, req: EvalRequest) -> Evaluator:
    """The evaluator of the run's kind of task, chosen by what its spec says the task can do."""
    config = read_json(run.config, default=None)
    task = config.get("task") if isinstance(config, dict) else None
    if is_base_eval_folder(run.root) or can(task, "generate"):
        from grokconsole.evals.generation_evaluator import GenerationEvaluator

        return GenerationEvaluator(run, req)
    from grokconsole.evals.split_evaluator import SplitEvaluator

    return SplitEvaluator(run, req)


def evaluate_run(run_dir: Path, req: EvalRequest, stop: Any = None, log: Any = print) -> str:
    """Do the job; returns ``finished``, or ``stopped`` once ``stop.set`` turns true."""
    run = RunPaths(Path(run_dir))
    ep = EvalPaths(run)
    ep.root.mkdir(parents=True, exist_ok=True)
    evaluator = open_evaluator(run, req)
    steps = evaluator.steps
    append_jsonl(ep.progress, {"event": "start", "steps": steps, "suites": list(req.suites),
                               "interventions": list(evaluator.interventions), "wall": now_iso()})
    for i, step in enumerate(steps):
        if stop is not None and stop.set:
            append_jsonl(ep.progress, {"event": "stop", "wall": now_iso()})
            return "stopped"
        t0 = time.perf_counter()
        out = evaluator.evaluate(step)
        seconds = time.perf_counter() - t0
        append_jsonl(ep.progress, _event(out, step, i + 1, len(steps), evaluator.unit, seconds))
        log(f"step {step}: " + _summary(out, evaluator.unit, seconds))
        for warning in out.warnings:
            log(f"  {warning}")
    append_jsonl(ep.progress, {"event": "end", "wall": now_iso()})
    return "finished"


def _event(out: StepOutcome, step: int, index: int, total: int, unit: str | None, seconds: float) -> dict[str, Any]:
    """The ``checkpoint`` progress event of one step."""
    if out.missing:
        return {"event": "checkpoint", "step": step, "epoch": None, "done": out.done, "skipped": True,
                "missing": True, "index": index, "total": total, "wall": now_iso()}
    event: dict[str, Any] = {"event": "checkpoint", "step": step, "epoch": out.epoch, "done": out.done,
                             "skipped": not out.done, "index": index, "total": total}
    if unit is not None:
        event.update({unit: out.work, "seconds": round(seconds, 3)})
    if out.warnings:
        event["warnings"] = list(out.warnings)
    return {**event, "wall": now_iso()}


def _summary(out: StepOutcome, unit: str | None, seconds: float) -> str:
    """The job's log line of one step."""
    if out.missing:
        return "checkpoint gone (pruned by training), skipped"
    if not out.done:
        return "already evaluated, skipped"
    rate = f" ({out.work} {unit}, {out.work / seconds:.0f}/s)" if unit and out.work and seconds > 0 else ""
    return ", ".join(out.done) + rate

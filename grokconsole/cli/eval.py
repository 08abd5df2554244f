"""``grok eval RUN``: evaluate a run's checkpoints in a detached job (suites, M4/M5 interventions).

The request is checked here without torch (run, checkpoints, suites, interventions, generation
options) and sent as an :class:`~grokconsole.evals.request.EvalRequest`; the job itself is
``grokconsole.evals.job`` (the work: ``grokconsole.evals.runner``), started like training, with its own
lifecycle in ``runs/<run>/eval/run.json``. ``--base-model`` evaluates an untuned model into a
results folder of its own (:mod:`grokconsole.cli.eval_base`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from grokconsole.cli.common import RUNS_DIR_HELP, console, echo, handle_errors, plain, status_label
from grokconsole.cli.eval_samples import show_samples
from grokconsole.evals.base_folder import base_model_folder, generation_task, task_generates, write_model_file
from grokconsole.runs.checkpoint_files import periodic_checkpoints
from grokconsole.runs.errors import GrokError
from grokconsole.evals.request import (CheckpointSpec, EvalRequest, check_checkpoints, check_interventions, parse_alphas,
                                       parse_checkpoints, parse_interventions, resolve_epochs, resolve_suites)
from grokconsole.runs.evalfiles import EvalPaths, eval_state, eval_status
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.lifecycle import effective_status
from grokconsole.tasks.generation import DEFAULT_BATCH, DEFAULT_ICL_GROUP, DEFAULT_PROBLEMS, GenerationOptions, check_icl_fits, check_icl_group, check_problems, parse_icl_demos, parse_shots
from grokconsole.tasks.registry import task_spec
from grokconsole.runs.env import default_runs_dir
from grokconsole.runs.folder import RunPaths, resolve_run
from grokconsole.launch.device_check import check_device
from grokconsole.launch.stop import stop_eval
from grokconsole.runs.tail import JsonlTail

POLL_SECONDS = 0.3


@handle_errors
def eval_cmd(
    runs: Annotated[Optional[list[str]], typer.Argument(help="Run id (or a unique part of it) whose checkpoints to evaluate; "
                                                             "several: one job evaluates them in turn; "
                                                             "with --base-model: the model folder (none: the built-in model).")] = None,
    checkpoints: Annotated[str, typer.Option("--checkpoints", "-k",
                                             help="all | last | steps like 100,200 (checkpoints/step_<STEP>.pt) | epochs like e50,e100.")] = "all",
    suite: Annotated[Optional[list[str]], typer.Option("--suite", help="Suite to run (repeatable; default: all of the task's).")] = None,
    intervene: Annotated[Optional[str], typer.Option("--intervene", help="Interventions: m4 (ablation), m5 (steering), e.g. m4,m5.")] = None,
    alphas: Annotated[Optional[str], typer.Option("--alphas", help="M5 steering coefficients (σ units), default -3,-2,-1,0,1,2,3.")] = None,
    steer_step: Annotated[Optional[int], typer.Option("--steer-step", help="Checkpoint step for M5 (default: the last chosen).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-evaluate checkpoints that already have results.")] = False,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda (default auto: a GPU when there is one).")] = "auto",
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Show progress until the job ends.")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the run's running eval job.")] = False,
    status: Annotated[bool, typer.Option("--status", help="Show the run's eval job and what is evaluated.")] = False,
    shots: Annotated[Optional[str], typer.Option("--shots", help="icl suite: numbers of demonstrations, default 0,1,2,4,8,16.")] = None,
    icl_cot: Annotated[bool, typer.Option("--icl-cot", help="icl suite: demonstrations with the chain-of-thought trace (= --icl-demos cot).")] = False,
    icl_demos: Annotated[str, typer.Option("--icl-demos", help="icl suite: plain | cot | both (demonstrations without/with the trace).")] = "plain",
    icl_group: Annotated[int, typer.Option("--icl-group", help="icl suite: queries sharing one set of demonstrations (1: each query its own).")] = DEFAULT_ICL_GROUP,
    problems: Annotated[int, typer.Option("--problems", help="Language-model suites: problems per slice.")] = DEFAULT_PROBLEMS,
    batch: Annotated[int, typer.Option("--batch", help="Language-model suites: prompts per generation batch.")] = DEFAULT_BATCH,
    base_model: Annotated[bool, typer.Option("--base-model", help="Evaluate an untuned model (RUN: its folder; none: the built-in model), no run needed.")] = False,
    task_name: Annotated[Optional[str], typer.Option("--task", help="With --base-model: the task whose suites to run (default: the language-model task).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="With --base-model: results folder (default RUNS_DIR/base_models/<model>).")] = None,
    samples: Annotated[bool, typer.Option("--samples", help="Show the per-sample log of the language-model suites (names after RUN: slices or patterns like k8_*_cot).")] = False,
    wrong: Annotated[bool, typer.Option("--wrong", help="With --samples: only the samples answered wrongly.")] = False,
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
) -> None:
    """Evaluate saved checkpoints in a detached job; results go to [bold]eval/by_checkpoint/[/].

    Examples: [bold]grok eval RUN[/] · [bold]grok eval RUN --checkpoints last --follow[/] ·
    [bold]grok eval RUN --intervene m4,m5[/] · [bold]grok eval RUN --suite icl --shots 0,1,2,4,8 --icl-cot[/] ·
    [bold]grok eval --base-model [MODEL_DIR] --suite icl[/] · [bold]grok eval RUN --stop[/] ·
    [bold]grok eval RUN1 RUN2 RUN3 --checkpoints last --suite accuracy[/] (one job, the runs in turn) ·
    [bold]grok eval RUN --samples k8_b8_d2_cot --wrong[/] (what the model wrote)
    """
    asked = Asked(checkpoints, suite, intervene, alphas, steer_step, force, device, follow,
                  *_generation(shots, icl_cot, icl_demos, icl_group, problems, batch))
    names, where = list(runs or []), runs_dir or default_runs_dir()
    if wrong and not samples:
        raise GrokError("--wrong filters --samples: grok eval RUN --samples [SLICE] --wrong")
    if samples:
        _samples(names, asked, base_model, task_name, out, where, wrong)
    elif base_model:
        _base_model(names, asked, task_name, out, where, stop, status)
    elif not names:
        raise GrokError("name a run to evaluate (grok eval RUN), or evaluate an untuned model with --base-model [DIR]")
    elif out is not None:
        raise GrokError("--out is for --base-model results; a run's results go to its eval/ folder")
    elif len(names) > 1:
        _several(names, where, asked, stop, status)
    else:
        _one(names[0], where, asked, stop, status)


@dataclass(frozen=True)
class Asked:
    """The request as typed: the options every way of running ``grok eval`` checks in its own way."""

    checkpoints: str
    suites: list[str] | None
    intervene: str | None
    alphas: str | None
    steer_step: int | None
    force: bool
    device: str
    follow: bool
    generation: GenerationOptions
    asked_generation: bool  # a generation option differs from its default

    def for_task(self, task: str, what: str) -> GenerationOptions | None:
        """The generation options for ``task`` (None for a task that does not generate; asking for
        them there is a GrokError ending in ``what``, the runs it was asked of)."""
        if task_generates(task):
            return self.generation
        if self.asked_generation:
            raise GrokError(f"--shots/--icl-cot/--icl-group/--problems/--batch are for language-model tasks{what}")
        return None


def _generation(shots: str | None, icl_cot: bool, icl_demos: str, icl_group: int, problems: int,
                batch: int) -> tuple[GenerationOptions, bool]:
    """The generation options, checked, and whether any was asked for."""
    options = GenerationOptions(check_problems(problems), parse_shots(shots), parse_icl_demos(icl_demos, icl_cot),
                                max(1, batch), check_icl_group(icl_group))
    asked = (shots is not None or icl_cot or icl_demos != "plain" or problems != DEFAULT_PROBLEMS
             or batch != DEFAULT_BATCH or icl_group != DEFAULT_ICL_GROUP)
    return options, asked


def _samples(names: list[str], asked: Asked, base_model: bool, task_name: str | None, out: Path | None,
             runs_dir: Path, wrong: bool) -> None:
    """``--samples``: the first name is the run (with ``--base-model``, a model folder when it is
    one), the others slices."""
    if base_model:
        model = names[0] if names and Path(names[0]).expanduser().is_dir() else None
        paths = base_model_folder(model, out, runs_dir, task_name or generation_task())
        patterns = names[1:] if model is not None else names
    elif not names:
        raise GrokError("name the run whose samples to show: grok eval RUN --samples [SLICE] [--wrong]")
    else:
        paths, patterns = resolve_run(names[0], runs_dir), names[1:]
    show_samples(paths, asked.checkpoints, asked.suites, patterns, wrong)


def _base_model(names: list[str], asked: Asked, task_name: str | None, out: Path | None, runs_dir: Path,
                stop: bool, status: bool) -> None:
    """``--base-model [DIR]``: the untuned model's own results folder."""
    if len(names) > 1:
        raise GrokError("--base-model evaluates one model: name at most one model folder")
    if asked.intervene or asked.steer_step is not None or asked.checkpoints != "all":
        raise GrokError("--base-model evaluates the untuned model: no --checkpoints, --intervene or --steer-step")
    model = names[0] if names else None
    task = task_name or generation_task()
    paths = base_model_folder(model, out, runs_dir, task)
    if stop or status:
        _stop_or_status(paths, stop)
        return
    suites = resolve_suites(task, asked.suites)
    _check_icl(task, suites, asked.generation, {"model_path": model})
    req = EvalRequest(CheckpointSpec("all"), suites, force=asked.force, device=asked.device,
                      generation=asked.generation)
    _launch(paths, req, asked.follow, create=lambda: write_model_file(paths.root, model, task))


def _one(name: str, runs_dir: Path, asked: Asked, stop: bool, status: bool) -> None:
    """One run: every option checked against it before the job starts."""
    paths = resolve_run(name, runs_dir)
    if stop or status:
        _stop_or_status(paths, stop)
        return
    task = _run_task(paths)
    spec = resolve_epochs(paths, parse_checkpoints(asked.checkpoints))
    suites = resolve_suites(task, asked.suites)
    actions = parse_interventions(asked.intervene)
    if actions:
        check_interventions(task, paths.run_id)
    coefs = parse_alphas(asked.alphas)
    generation = asked.for_task(task, f"; run {paths.run_id} is {task!r}")
    _check_icl(task, suites, generation, read_json(paths.config, default={}) or {})
    check_checkpoints(paths, spec)
    steer = asked.steer_step
    if steer is not None and steer not in dict(periodic_checkpoints(paths.checkpoints)):
        raise GrokError(f"--steer-step {steer}: run {paths.run_id} has no checkpoint {paths.step_checkpoint(steer).name}")
    _launch(paths, EvalRequest(spec, suites, actions, coefs, steer, asked.force, asked.device, generation),
            asked.follow)


def _several(names: list[str], runs_dir: Path, asked: Asked, stop: bool, status: bool) -> None:
    """One job for several runs of one task: every run checked first, nothing started on a refusal."""
    found = [resolve_run(name, runs_dir) for name in names]
    if len({p.root.resolve() for p in found}) < len(found):
        raise GrokError("a run is named twice")
    if stop or status:
        for paths in found:
            _stop_or_status(paths, stop)
        return
    if asked.intervene or asked.steer_step is not None:
        raise GrokError("--intervene and --steer-step take one run; several runs are evaluated by suites only")
    spec = parse_checkpoints(asked.checkpoints)
    if spec.epochs:
        raise GrokError("several runs take --checkpoints all, last or steps (epochs differ from run to run)")
    tasks = set()
    for paths in found:
        tasks.add(_run_task(paths))
        check_checkpoints(paths, spec)
        _no_running_job(paths)
    if len(tasks) > 1:
        raise GrokError(f"runs of different tasks ({', '.join(sorted(tasks))}): evaluate each task in its own job")
    task = tasks.pop()
    generation = asked.for_task(task, f", not {task!r}")
    suites = resolve_suites(task, asked.suites)
    for paths in found:
        _check_icl(task, suites, generation, read_json(paths.config, default={}) or {})
    _check_device(asked.device)
    from grokconsole.launch import process as launcher

    offsets = [_progress_offset(p) for p in found]
    req = EvalRequest(spec, suites, force=asked.force, device=asked.device, generation=generation)
    pid = launcher.start_eval(found, req.to_argv())
    console.print(plain(f"one eval job for {len(found)} runs (pid {pid}; suites {', '.join(suites)}; each run's results "
                        f"in its eval/by_checkpoint/)"))
    if asked.follow:
        codes = [follow_eval(paths, offset) for paths, offset in zip(found, offsets)]
        raise typer.Exit(next((c for c in codes if c), 0))


def _check_icl(task: str, suites: tuple[str, ...], generation: GenerationOptions | None,
               config: dict[str, Any]) -> None:
    """Every k-shot prompt of the icl suite fits the model's context (refused before a job starts)."""
    if generation is not None and "icl" in suites:
        check_icl_fits(task_spec(task), config, generation)


def _run_task(paths: RunPaths) -> str:
    """The task a run was trained on (refused when it has no config.json)."""
    config = read_json(paths.config, default=None)
    if not isinstance(config, dict):
        raise GrokError(f"run {paths.run_id} has no config.json: it was not trained by grokconsole")
    return str(config.get("task", ""))


def _check_device(device: str) -> None:
    """Refused before anything is written: a bad name, or ``cuda`` where there is none (as ``grok run``)."""
    if device not in ("auto", "cpu", "cuda"):
        raise GrokError(f"bad --device {device!r}: choose auto, cpu or cuda")
    check_device(device)


def _no_running_job(paths: RunPaths) -> None:
    if eval_status(paths) == "running":
        raise GrokError(f"{paths.run_id} already has a running eval job (grok eval {paths.run_id} --stop)")


def _progress_offset(paths: RunPaths) -> int:
    """Where the job's new progress lines will start (the file's current size), for following them."""
    progress = EvalPaths(paths).progress
    return progress.stat().st_size if progress.exists() else 0


def _stop_or_status(paths: RunPaths, stop: bool) -> None:
    if stop:
        stop_eval(paths)
        console.print(plain(f"{paths.run_id}: eval stop requested"))
    else:
        _print_status(paths)


def _launch(paths: RunPaths, req: EvalRequest, follow: bool, create: Callable[[], None] | None = None) -> None:
    """Start the detached job (after the last check; ``create`` writes what a new folder needs)."""
    _check_device(req.device)
    _no_running_job(paths)
    from grokconsole.launch import process as launcher

    if create is not None:
        create()
    ep = EvalPaths(paths)
    offset = _progress_offset(paths)
    pid = launcher.start_eval(paths, req.to_argv())
    console.print(plain(f"{paths.run_id}: eval job started (pid {pid}; suites {', '.join(req.suites)}"
                        + (f"; {', '.join(req.interventions)}" if req.interventions else "")
                        + f"; results in {ep.by_checkpoint})"))
    if follow:
        raise typer.Exit(follow_eval(paths, offset))


def follow_eval(paths: RunPaths, offset: int = 0) -> int:
    """Print each evaluated checkpoint until the job ends; returns its exit code."""
    ep = EvalPaths(paths)
    tail = JsonlTail(ep.progress)
    tail.offset = offset
    try:
        while True:
            state = eval_state(paths)
            current = effective_status(state) if state else "running"
            for ev in tail.poll().rows:
                _print_event(ev)
            if current != "running":
                for ev in tail.poll().rows:
                    _print_event(ev)
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        console.print(plain(f"detached; the eval job keeps running (grok eval {paths.run_id} --stop)"))
        return 130
    state = eval_state(paths)
    current = effective_status(state) if state else "crashed"
    echo("{run}: eval {status}", run=paths.run_id, status=status_label(current))
    if current in ("failed", "crashed"):
        console.print(plain(f"see {ep.stderr_log}"))
        return 1
    return int(state.exit_code) if state and state.exit_code is not None else 1


def _print_event(ev: dict) -> None:
    kind = ev.get("event")
    if kind == "start":
        console.print(plain(f"evaluating {len(ev.get('steps') or [])} checkpoint(s): "
                            f"{', '.join(str(s) for s in ev.get('suites') or [])}"))
    elif kind == "checkpoint":
        what = ", ".join(ev.get("done") or []) or ("checkpoint gone (pruned by training), skipped"
                                                   if ev.get("missing") else "already evaluated, skipped")
        console.print(plain(f"  [{ev.get('index')}/{ev.get('total')}] step {ev.get('step')}: {what}"))
        for warning in ev.get("warnings") or []:
            echo("    [yellow]{warning}[/]", warning=warning)
    elif kind == "stop":
        console.print("stop requested: the job ended before the next checkpoint")
    elif kind == "crash":
        echo("[red]eval failed:[/] {error}", error=ev.get("error"))


def _print_status(paths: RunPaths) -> None:
    ep = EvalPaths(paths)
    current = eval_status(paths)
    echo("{run}: eval job {status}", run=paths.run_id, status=status_label(current) if current else "never started")
    steps = sorted(int(p.name[5:]) for p in ep.by_checkpoint.glob("step_*") if p.name[5:].isdigit())
    if steps:
        console.print(plain(f"evaluated steps: {', '.join(str(s) for s in steps)}"))
    for f in sorted(ep.mechinterp.glob("m[45]_*.json")):
        console.print(plain(f"intervention: {f.relative_to(paths.root)}"))

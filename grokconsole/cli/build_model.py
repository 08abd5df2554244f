"""``grok build-model``: rebuild the built-in tiny base model (deterministic from its seed)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from grokconsole.cli.common import console, echo, handle_errors
from grokconsole.runs.errors import GrokError


@handle_errors
def build_model(
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder to write (default: $GROK_CACHE/tiny-adder, or tiny-TASK).")] = None,
    task: Annotated[Optional[str], typer.Option("--task", help="Rebuild this task's own built-in model instead (a task without one is refused).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the weights and the pre-training data.")] = 0,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Pre-training steps before the prior stage (default: the shipped model's).")] = None,
    prior_steps: Annotated[Optional[int], typer.Option("--prior-steps", help="Steps of the prior stage that follows (0: none; default: the shipped model's; the generic tiny model only).")] = None,
    threads: Annotated[int, typer.Option("--threads", help="Torch threads (0: one per core).")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a folder that already holds a model.")] = False,
) -> None:
    """Pre-train the built-in tiny model (a small Llama-style LM with a character tokenizer) on
    addition in many bases, answer only and with the carry trace (docs/llm.md), and save it as a Hugging Face folder usable with
    [bold]--set model_path=FOLDER[/]; with [bold]--task[/], a task's own built-in model. The package
    already ships the models built with the defaults.
    """
    from grokconsole.llm.paths import BUILTIN_NAME, cache_dir

    builder = _task_builder(task)
    folder = (out or cache_dir() / (f"tiny-{task}" if builder else BUILTIN_NAME)).expanduser()
    if steps is not None and steps < 1:
        raise GrokError(f"--steps must be ≥ 1, got {steps}")
    if prior_steps is not None and prior_steps < 0:
        raise GrokError(f"--prior-steps must be ≥ 0, got {prior_steps}")
    if prior_steps is not None and task is not None:
        raise GrokError("--prior-steps belongs to the generic tiny model's build, not to --task")
    if threads < 0:
        raise GrokError(f"--threads must be ≥ 0, got {threads}")
    if folder.exists() and not folder.is_dir():
        raise GrokError(f"--out {folder}: exists and is not a folder")
    if (folder / "config.json").exists() and not force:
        raise GrokError(f"--out {folder} already holds a model (use --force to overwrite it)")

    import os

    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from grokconsole.llm.tinybuild import BuildConfig, build

    torch.set_num_threads(threads or os.cpu_count() or 1)
    if builder is not None:
        _build_for_task(builder, folder, seed, steps)
        return
    overrides = {k: v for k, v in (("steps", steps), ("prior_steps", prior_steps)) if v is not None}
    cfg = BuildConfig(seed=seed, **overrides)
    columns = (TextColumn("pre-training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("build", total=cfg.steps + cfg.prior_steps, loss="—")
        result = build(folder, cfg, progress=lambda step, loss: progress.update(bar, completed=step, loss=f"{loss:.3f}"),
                       quality=_quality)
    echo("built {folder} in {seconds} s; use it with [bold]--set model_path={folder}[/]", folder=folder,
         seconds=f"{result.seconds:.0f}")


def _task_builder(task: str | None) -> str | None:
    """The module that rebuilds ``task``'s own built-in model (None: the generic tiny model)."""
    if task is None:
        return None
    from grokconsole.tasks.registry import task_spec

    builder = task_spec(task).builder
    if builder is None:
        raise GrokError(f"task {task!r} has no built-in model of its own (it uses the generic tiny model: "
                        f"grok build-model without --task)")
    return builder


def _build_for_task(module_name: str, folder: Path, seed: int, steps: int | None) -> None:
    import importlib

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    module = importlib.import_module(module_name)
    columns = (TextColumn("pre-training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("build", total=module.total_steps(steps), loss="—")
        info = module.build_builtin(folder, seed=seed, steps=steps,
                                    progress=lambda step, loss: progress.update(bar, completed=step, loss=f"{loss:.3f}"))
    console.print(module.summary(info))
    echo("built {folder} in {seconds} s; use it with [bold]--set model_path={folder}[/]", folder=folder,
         seconds=f"{info['seconds']:.0f}")


def _quality(folder: Path) -> dict[str, object]:
    from grokconsole.llm.loading import load_model
    from grokconsole.llm.tinybuild import measure_quality

    console.print("measuring accuracy (zero-shot by base, k-shot curves) …")
    model, tokenizer = load_model(folder)
    q = measure_quality(model, tokenizer)
    console.print(f"2-digit exact match, zero-shot: base 8 {q['b8_d2']:.2f}, base 9 {q['b9_d2']:.2f}, "
                  f"base 10 {q['b10_d2']:.2f}; k-shot base 8: "
                  + ", ".join(f"k={k} {v:.2f}" for k, v in q["kshot_b8"].items())
                  + f"; base 10 with the trace, 3 digits {q['b10_d3_cot']:.2f}, 4 digits {q['b10_d4_cot']:.2f}")
    return q

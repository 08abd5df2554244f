"""``grok run``: parse the options into a launch request; the launch package does the rest."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from grokconsole.cli.common import RUNS_DIR_HELP, console, fail, handle_errors, plain
from grokconsole.llm.placement import dry_run_dtype
from grokconsole.runs.env import default_runs_dir


@handle_errors
def run(
    command: Annotated[Optional[list[str]], typer.Argument(
        help="After `--`: any training command to launch as a tracked run.", show_default=False)] = None,
    task: Annotated[Optional[str], typer.Option("--task", "-t", help="Task to train (default: the embedded default).")] = None,
    condition: Annotated[Optional[str], typer.Option("--condition", "-c", help="Condition preset: grokking | standard (default: the task's; grokking for most).",
                                                   show_default=False)] = None,
    n_train: Annotated[Optional[int], typer.Option("--n-train", "-n", help="Training-set size.")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", "-s", help="Random seed.", show_default="0")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="Epochs to train.")] = None,
    sets: Annotated[Optional[list[str]], typer.Option("--set", help="Override any config key: key=value (repeatable).")] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", help="A named bundle of overrides (e.g. grokfast); implies its task.")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="auto | cpu | cuda.")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Local data folder for tasks with real data.")] = None,
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Replaces the run id's tail after the timestamp.")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Show live progress until the run ends.")] = False,
    resume: Annotated[Optional[str], typer.Option("--resume", help="Continue RUN from its last checkpoint.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the resolved config and exit (launch nothing).")] = False,
    executor: Annotated[str, typer.Option("--executor", "-x", help="Where to run: local | slurm.")] = "local",
    slurm: Annotated[Optional[list[str]], typer.Option("--slurm", help=(
        "A SLURM resource for --executor slurm: key=value, repeatable (partition, time_min, cpus_per_task, "
        "gpus_per_node, mem_gb, or any sbatch option)."))] = None,
) -> None:
    """Launch a training run (detached) and print its run id.

    Examples: [bold]grok run --condition grokking --follow[/] ·
    [bold]grok run --task modarith --set lr=3e-3 --set weight_decay=0.5[/] ·
    [bold]grok run --resume RUN[/] · [bold]grok run --condition grokking -- python train.py[/] ·
    [bold]grok run --executor slurm --slurm partition=gpu --slurm time_min=120[/]
    """
    from grokconsole.launch import LaunchRequest, make_backend, prepare, start

    request = LaunchRequest(runs_dir or default_runs_dir(), task=task, condition=condition, n_train=n_train,
                            seed=seed, epochs=epochs, sets=list(sets or []), preset=preset, device=device,
                            data_dir=data_dir, name=name, command=list(command) if command else None, resume=resume)
    backend = make_backend(executor, slurm or [])
    prepared = prepare(request)
    if dry_run:  # with --resume: the run's own config, and nothing is started
        config = prepared.config
        if prepared.resume is None and "amp" in config and not config.get("command"):
            choice = _amp_choice(config)
            config = {**config, "amp_resolved": choice.amp, "amp_reason": choice.reason, **dry_run_dtype(config)}
        console.print_json(json.dumps(config))
        return
    paths = start([prepared], backend)[0]
    console.print(plain(paths.run_id))
    if follow:
        from grokconsole.cli.follow import follow_run

        raise typer.Exit(follow_run(paths))


def _amp_choice(config: dict[str, Any]) -> Any:
    """What the trainer will run ``amp`` as on this machine (shown by ``--dry-run``).

    Reading /proc/cpuinfo is free; torch is imported only when the run may use a GPU (device
    cuda, or auto with an NVIDIA driver present), the one case where only torch can tell.
    """
    from grokconsole.llm.placement import nvidia_driver
    from grokconsole.runs.precision import read_cpu_flags, resolve_amp

    requested, device = str(config["amp"]), str(config.get("device", "auto"))
    if requested == "auto" and (device == "cuda" or (device == "auto" and nvidia_driver())):
        import torch

        if torch.cuda.is_available():
            return resolve_amp(requested, "cuda", cuda_bf16=torch.cuda.is_bf16_supported())
    return resolve_amp(requested, "cpu", cpu_flags=read_cpu_flags())


__all__ = ["run", "fail"]

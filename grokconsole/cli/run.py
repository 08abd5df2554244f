"""``grok run``: resolve a condition preset, write the run folder, start training detached."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from grokconsole.cli.common import RUNS_DIR_HELP, console, default_runs_dir, fail, handle_errors
from grokconsole.core.errors import GrokError
from grokconsole.core.jsonio import read_json
from grokconsole.core.lifecycle import effective_status, read_run_state
from grokconsole.core.presets import CONDITIONS, default_task, parse_set_options, resolve_config
from grokconsole.core.runfolder import check_name, resolve_run


def _raw_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@handle_errors
def run(
    command: Annotated[Optional[list[str]], typer.Argument(
        help="After `--`: any training command to launch as a tracked run.", show_default=False)] = None,
    task: Annotated[Optional[str], typer.Option("--task", "-t", help="Task to train (default: the embedded default).")] = None,
    condition: Annotated[str, typer.Option("--condition", "-c", help="Condition preset: grokking | standard.")] = "grokking",
    n_train: Annotated[Optional[int], typer.Option("--n-train", "-n", help="Training-set size.")] = None,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed.")] = 0,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="Epochs to train.")] = None,
    sets: Annotated[Optional[list[str]], typer.Option("--set", help="Override any config key: key=value (repeatable).")] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", help="A named bundle of overrides (e.g. grokfast).")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="auto | cpu | cuda.")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Local data folder for tasks with real data.")] = None,
    runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", help=RUNS_DIR_HELP)] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Replaces the run id's tail after the timestamp.")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Show live progress until the run ends.")] = False,
    resume: Annotated[Optional[str], typer.Option("--resume", help="Continue RUN from its last checkpoint.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the resolved config and exit.")] = False,
) -> None:
    """Launch a training run (detached) and print its run id.

    Examples: [bold]grok run --condition grokking --follow[/] ·
    [bold]grok run --task modarith --set lr=3e-3 --set weight_decay=0.5[/] ·
    [bold]grok run --resume RUN[/] · [bold]grok run --condition grokking -- python train.py[/]
    """
    from grokconsole import launcher

    runs = runs_dir or default_runs_dir()
    if resume:
        _resume(resume, runs, follow)
        return
    if name is not None:
        check_name(name)
    if command:
        if condition not in CONDITIONS:
            raise GrokError(f"unknown condition {condition!r}; choose one of: {', '.join(CONDITIONS)}")
        if n_train is not None and n_train <= 0:
            raise GrokError(f"n_train must be a positive integer, got {n_train}")
        config: dict[str, Any] = {"task": task or "custom", "condition": condition, "n_train": n_train or 0,
                                  "seed": seed, "command": list(command)}
        if epochs is not None:
            config["epochs"] = epochs
        for key, value in parse_set_options(sets or []):
            config[key] = _raw_value(value)
        if shutil.which(command[0]) is None and not Path(command[0]).exists():
            raise GrokError(f"command not found: {command[0]}")
    else:
        explicit = {"n_train": n_train, "seed": seed, "epochs": epochs, "device": device,
                    "data_dir": str(data_dir) if data_dir else None}
        config = resolve_config(task or default_task(), condition, preset=preset, explicit=explicit, sets=sets)
    if dry_run:
        console.print_json(json.dumps(config))
        return
    paths = launcher.new_run_folder(config, runs, name, None)
    if command:
        launcher.start_command(paths, list(command))
    else:
        launcher.start_training(paths)
    console.print(paths.run_id)
    if follow:
        from grokconsole.cli.follow import follow_run

        raise typer.Exit(follow_run(paths))


def _resume(ref: str, runs: Path, follow: bool) -> None:
    from grokconsole import launcher

    paths = resolve_run(ref, runs)
    config = read_json(paths.config)
    status = effective_status(read_run_state(paths.root))
    if status == "running":
        raise GrokError(f"run {paths.run_id} is still running")
    if status == "finished":
        raise GrokError(f"run {paths.run_id} has finished; there is nothing to resume")
    if config.get("command"):
        launcher.start_command(paths, list(config["command"]), resume=True)
    else:
        if not (paths.checkpoints / "latest.pt").exists():
            raise GrokError(f"run {paths.run_id} has no checkpoint to resume from ({paths.checkpoints}/latest.pt)")
        launcher.start_training(paths, resume=True)
    console.print(paths.run_id)
    if follow:
        from grokconsole.cli.follow import follow_run

        raise typer.Exit(follow_run(paths))


__all__ = ["run", "fail"]

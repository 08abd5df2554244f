"""What a launch asks for (``LaunchRequest``) and its resolution into a ``PreparedRun``.

Every way of starting a run (``grok run``, the watch screen's launch form, ``grok sweep``)
builds a request and goes through :func:`prepare`, so presets, validation and run naming
behave the same everywhere. Preparing creates nothing: a bad request fails before any
folder exists, which is what lets a sweep validate every point before launching one.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.checkpoint_files import describe_damage, newest_intact, resume_candidates
from grokconsole.runs.lifecycle import effective_status, orphaned_child, read_run_state
from grokconsole.tasks.config import (COMMON_CHOICES, CONDITIONS, default_task, parse_set_options, preset_task,
                                      resolve_config)
from grokconsole.tasks.registry import task_spec
from grokconsole.runs.folder import RunPaths, check_name, resolve_run
from grokconsole.launch.device_check import check_device


@dataclass
class LaunchRequest:
    """One run to start, as the user described it (unresolved)."""

    runs_dir: Path
    task: str | None = None
    condition: str | None = None      # None: not given (grokking)
    n_train: int | None = None
    seed: int | None = None           # None: not given (0)
    epochs: int | None = None
    sets: list[str] = field(default_factory=list)
    preset: str | None = None
    device: str | None = None
    data_dir: Path | None = None
    name: str | None = None
    command: list[str] | None = None  # any training command, run under the supervisor
    resume: str | None = None         # a run reference to continue from its checkpoint
    extra: dict[str, Any] = field(default_factory=dict)  # bookkeeping keys for config.json (e.g. sweep)
    argv: list[str] | None = None     # the command line recorded as provenance (None: sys.argv)


@dataclass
class PreparedRun:
    """A validated request: the full config and where it goes; nothing created yet."""

    config: dict[str, Any]
    runs_dir: Path
    name: str | None = None
    command: list[str] | None = None
    resume: RunPaths | None = None  # set when continuing an existing run folder
    argv: list[str] | None = None


DEVICES = COMMON_CHOICES["device"]


def raw_value(text: str) -> Any:
    """A ``--set`` value for a free command: JSON when it parses, else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


DEFAULT_CONDITION = "grokking"


def _condition(req: LaunchRequest, task: str | None = None) -> str:
    """The asked condition, else the task's own default (``grokking`` for a free command)."""
    if req.condition is not None:
        return req.condition
    return task_spec(task).default_condition if task else DEFAULT_CONDITION


def _seed(req: LaunchRequest) -> int:
    return 0 if req.seed is None else req.seed


def prepare(req: LaunchRequest) -> PreparedRun:
    """Resolve and validate ``req``; GrokError (one clear line) on any bad input."""
    if req.resume is not None:
        return _prepare_resume(req)
    if req.name is not None:
        check_name(req.name)
    if req.command:
        config = _command_config(req)
    else:
        explicit = {"n_train": req.n_train, "seed": _seed(req), "epochs": req.epochs, "device": req.device,
                    "data_dir": str(req.data_dir) if req.data_dir else None}
        task = req.task or (preset_task(req.preset) if req.preset else default_task())
        config = resolve_config(task, _condition(req, task), preset=req.preset, explicit=explicit,
                                sets=req.sets)
        check_device(config["device"])
    config.update(req.extra)
    return PreparedRun(config, Path(req.runs_dir), req.name, list(req.command) if req.command else None,
                       argv=req.argv)


def _command_config(req: LaunchRequest) -> dict[str, Any]:
    assert req.command
    condition = _condition(req)
    if condition not in CONDITIONS:
        raise GrokError(f"unknown condition {condition!r}; choose one of: {', '.join(CONDITIONS)}")
    if req.n_train is not None and req.n_train <= 0:
        raise GrokError(f"n_train must be a positive integer, got {req.n_train}")
    if req.preset is not None:
        raise GrokError(f"--preset {req.preset}: a preset sets grokconsole's own trainer; "
                        "it does not apply to `grok run -- COMMAND`")
    config: dict[str, Any] = {"task": req.task or "custom", "condition": condition,
                              "n_train": req.n_train or 0, "seed": _seed(req), "command": list(req.command)}
    if req.epochs is not None:
        config["epochs"] = req.epochs
    # Recorded like --seed and --n-train: the command reads them from config.json (its Tracker's
    # config, or the file named by GROK_CONFIG).
    if req.device is not None:
        if req.device not in DEVICES:
            raise GrokError(f"device={req.device!r} is not one of: {', '.join(DEVICES)}")
        check_device(req.device)
        config["device"] = req.device
    if req.data_dir is not None:
        if not Path(req.data_dir).expanduser().is_dir():
            raise GrokError(f"--data-dir {req.data_dir}: no such folder")
        config["data_dir"] = str(req.data_dir)
    for key, value in parse_set_options(req.sets):
        config[key] = raw_value(value)
    if shutil.which(req.command[0]) is None and not Path(req.command[0]).exists():
        raise GrokError(f"command not found: {req.command[0]}")
    return config


def _prepare_resume(req: LaunchRequest) -> PreparedRun:
    assert req.resume is not None
    if not req.resume.strip():
        raise GrokError("--resume needs a run id (or a unique part of one), got an empty value")
    given = [flag for flag, value in (
        ("--task", req.task), ("--condition", req.condition), ("--n-train", req.n_train), ("--seed", req.seed),
        ("--epochs", req.epochs), ("--set", req.sets or None), ("--preset", req.preset), ("--device", req.device),
        ("--data-dir", req.data_dir), ("--name", req.name), ("a command after --", req.command)) if value is not None]
    if given:
        raise GrokError(f"--resume continues a run with its own config; {', '.join(given)} cannot change it "
                        "(leave it out, or start a new run)")
    paths = resolve_run(req.resume, req.runs_dir)
    config = read_json(paths.config, default=None)
    if not isinstance(config, dict):
        raise GrokError(f"run {paths.run_id} has no readable config.json")
    state = read_run_state(paths.root)
    status = effective_status(state)
    orphan = orphaned_child(state) if state is not None else None
    if orphan is not None:
        raise GrokError(f"run {paths.run_id}: its command (pid {orphan}) still runs without its supervisor; "
                        f"`grok stop {paths.run_id}` it first")
    if status in ("running", "queued"):
        raise GrokError(f"run {paths.run_id} is still {status}")
    if status == "finished":
        raise GrokError(f"run {paths.run_id} has finished; there is nothing to resume")
    command = list(config["command"]) if config.get("command") else None
    # No checkpoint at all (stopped or killed before the first): the trainer starts from step 0.
    # Checkpoints that are all damaged: refused here, before the run's status is touched.
    if command is None and resume_candidates(paths.checkpoints) and newest_intact(paths.checkpoints) is None:
        raise GrokError(f"run {paths.run_id} has no intact checkpoint to resume from "
                        f"({describe_damage(paths.checkpoints)})")
    if command is None:
        check_device(config.get("device"))
    return PreparedRun(config, Path(req.runs_dir), paths.run_id, command, resume=paths, argv=req.argv)

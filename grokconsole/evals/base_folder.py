"""``grok eval --base-model [DIR]``: where an untuned model's results go, checked before anything is written.

An untuned model has no run folder, so it gets a results folder of its own (default
``RUNS_DIR/base_models/<slug>``, see :mod:`grokconsole.runs.base_models`) holding ``model.json`` and the
usual ``eval/`` layout; ``grok export-figures`` reads it as the baseline of the runs tuned from
that model. Torch-free: ``grok eval`` and a sweep file's ``[eval] base_model`` check it alike.
"""
from __future__ import annotations

from pathlib import Path

from grokconsole.runs.errors import GrokError
from grokconsole.runs.jsonio import read_json, write_json_atomic
from grokconsole.runs.base_models import MODEL_FILE, base_eval_folder, model_identity
from grokconsole.runs.folder import RunPaths
from grokconsole.tasks.registry import can, tasks_that_can


def task_generates(task: str) -> bool:
    """Whether the task's models generate text (its suites are generation suites)."""
    return can(task, "generate")


def generation_task() -> str:
    """The default task of ``--base-model``: the first whose models generate text."""
    generating = tasks_that_can("generate")
    if generating:
        return generating[0]
    raise GrokError("--base-model needs a language-model task, and none is installed")


def base_model_folder(model_dir: str | None, out: Path | None, runs_dir: Path, task: str) -> RunPaths:
    """The results folder of the untuned model in ``model_dir`` (None: the built-in model).

    GrokError (nothing created) for a folder that is not a model, a task without generation
    suites, or an ``--out`` that holds something else."""
    from grokconsole.llm.paths import check_model_folder

    if not task_generates(task):
        generating = tasks_that_can("generate")
        raise GrokError(f"--base-model needs a language-model task (--task {' | '.join(generating) or 'none'}), "
                        f"not {task!r}")
    if model_dir is not None:
        check_model_folder(model_dir)
    folder = Path(out) if out is not None else base_eval_folder(runs_dir, model_dir)
    if folder.exists() and not folder.is_dir():
        raise GrokError(f"--out {folder} is a file")
    if folder.is_dir() and any(folder.iterdir()):
        info = read_json(folder / MODEL_FILE, default=None)
        if not isinstance(info, dict):
            raise GrokError(f"--out {folder} holds other files (not a base-model result folder)")
        if info.get("model") != model_identity(model_dir):
            raise GrokError(f"--out {folder} holds the results of {info.get('model')}, not of "
                            f"{model_identity(model_dir)}")
    return RunPaths(folder)


def write_model_file(folder: Path, model_dir: str | None, task: str) -> None:
    """``model.json``: which model the folder's results are of (how baselines are matched to runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    if not path.exists():
        write_json_atomic(path, {"model": model_identity(model_dir), "task": task,
                                 "model_path": model_identity(model_dir) if model_dir is not None else None})

"""The task registry: every subpackage ``grokconsole.tasks.<name>`` (not starting with ``_``) is a task.

A task package holds ``spec.py`` (torch-free: ``SPEC``, a :class:`~grokconsole.tasks.spec.TaskSpec`
whose ``name`` is the folder's name) and ``task.py`` (``TASK_CLASS``, the torch implementation),
plus whatever else only that task uses (data, evaluation suites, config checks). Adding a task is
adding a folder: the registry finds it by walking the ``grokconsole.tasks`` package's ``__path__`` (so a folder added
to that path, e.g. by a plug-in or a test, is found as well). Importing this module, or reading
specs, never imports torch; :func:`task_class` does.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from grokconsole.runs.detection import DetectionConfig
from grokconsole.runs.errors import GrokError
from grokconsole.tasks.spec import CAPABILITIES, PROGRESS_PANEL, TaskSpec

_SPECS: dict[str, TaskSpec] | None = None
_PACKAGE = "grokconsole.tasks"


def _package() -> Any:
    return importlib.import_module(_PACKAGE)


def _discover() -> dict[str, TaskSpec]:
    found: dict[str, TaskSpec] = {}
    for info in sorted(pkgutil.iter_modules(_package().__path__), key=lambda i: i.name):
        if not info.ispkg or info.name.startswith("_"):
            continue
        package = f"{_PACKAGE}.{info.name}"
        module = importlib.import_module(f"{package}.spec")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, TaskSpec):
            raise TypeError(f"{package}.spec defines no SPEC (a TaskSpec)")
        if spec.name != info.name:
            raise ValueError(f"{package}.spec: SPEC.name is {spec.name!r}, expected the folder name {info.name!r}")
        if not spec.package:
            object.__setattr__(spec, "package", package)
        found[spec.name] = spec
    _check_presets(found)
    return found


def _check_presets(specs: dict[str, TaskSpec]) -> None:
    owner: dict[str, str] = {}
    for spec in specs.values():
        for name in spec.presets:
            if name in owner:
                raise ValueError(f"preset {name!r} is declared by tasks {owner[name]!r} and {spec.name!r}")
            owner[name] = spec.name


def all_specs() -> dict[str, TaskSpec]:
    """Every task's spec, by name (sorted), discovered once and cached."""
    global _SPECS
    if _SPECS is None:
        _SPECS = _discover()
    return dict(_SPECS)


def refresh() -> None:
    """Forget the discovered tasks (after a folder was added to ``__path__``)."""
    global _SPECS
    _SPECS = None


def task_names() -> list[str]:
    return list(all_specs())


def task_spec(name: str) -> TaskSpec:
    """The spec of task ``name``; an unknown name is a GrokError listing the known ones."""
    specs = all_specs()
    try:
        return specs[name]
    except KeyError:
        raise GrokError(f"unknown task {name!r}; known tasks: {', '.join(sorted(specs))}") from None


def find_spec(name: Any) -> TaskSpec | None:
    """The spec of ``name`` or None (a run of a ``-- COMMAND`` or of a task no longer installed)."""
    return all_specs().get(name) if isinstance(name, str) else None


def default_task() -> str:
    """The task ``grok run`` uses without ``--task``: the one whose spec says ``default``."""
    specs = all_specs()
    for spec in specs.values():
        if spec.default:
            return spec.name
    return next(iter(specs))


def tasks_that_can(capability: str) -> tuple[str, ...]:
    """The tasks (by name, sorted) whose spec declares ``capability`` (see ``spec.CAPABILITIES``).

    The one place "which tasks can X" is answered; an unknown capability is a programming error.
    """
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    return tuple(name for name, spec in all_specs().items() if spec.can(capability))


def can(task: Any, capability: str) -> bool:
    """True when ``task`` is a known task whose spec declares ``capability``."""
    return task in tasks_that_can(capability)


def target_metric(config: dict[str, Any]) -> str | None:
    """The metric the grokking detector watches for a run with ``config``.

    The config's ``detect_target_metric`` (recorded at launch, or set with ``--set``), else the
    target of its task's spec, else None: a run without a spec keeps the default rule of
    :mod:`grokconsole.runs.detection` (``ood_acc`` where logged, else ``val_acc``).
    """
    recorded = config.get("detect_target_metric")
    if isinstance(recorded, str) and recorded:
        return recorded
    spec = find_spec(config.get("task"))
    return spec.target if spec is not None else None


def detection_config(config: dict[str, Any]) -> DetectionConfig:
    """The detector's settings for a run with ``config``: its ``detect_*`` keys and its task's target.

    A config whose ``detect_*`` values cannot make a :class:`DetectionConfig` (a hand-edited
    file) gets the default thresholds, still watching its task's target: readers never fail on it.
    """
    target = target_metric(config)
    try:
        return DetectionConfig.from_config(config, target=target)
    except (TypeError, ValueError):
        return DetectionConfig(target_metric=target)


def presets() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every named preset: name → (its task, the overrides)."""
    return {name: (spec.name, dict(bundle)) for spec in all_specs().values()
            for name, bundle in spec.presets.items()}


def task_class(name: str) -> type:
    """The torch implementation of task ``name`` (imports torch)."""
    spec = task_spec(name)
    module = importlib.import_module(f"{spec.package}.task")
    cls = getattr(module, "TASK_CLASS", None)
    if cls is None:
        raise TypeError(f"{spec.package}.task defines no TASK_CLASS")
    return cls


def task_module(name: str, module: str) -> Any:
    """Import ``<task package>.<module>`` (e.g. its ``suites``), or None when the task has none."""
    spec = task_spec(name)
    target = f"{spec.package}.{module}"
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name == target:
            return None
        raise


def result_schema(name: Any) -> Any:
    """The task's result-schema module (``<task package>.results``: how its suites' results read
    back, torch-free), or None for an unknown task or one without. How readers such as the
    figures reach a task's own result format without naming the task."""
    if find_spec(name) is None:
        return None
    return task_module(str(name), "results")


def progress_metrics(config: Any) -> tuple[str, ...]:
    """The columns a run's task draws on the progress-measures panel (their leads over the
    grokking epoch go into the summary); none for a run without a spec."""
    spec = find_spec(config.get("task")) if isinstance(config, dict) else None
    return tuple(m.key for m in spec.panel_metrics(PROGRESS_PANEL.name)) if spec is not None else ()

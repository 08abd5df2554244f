"""What a task declares about itself, in pure Python: the seam between a task and the rest.

A task is one package ``grokconsole/tasks/<name>/``: ``spec.py`` defines ``SPEC``, a
:class:`TaskSpec` (torch-free, so the CLI, ``grok ls``, ``grok watch``, the eval catalogue and
the figures can read it without loading a model), and ``task.py`` defines ``TASK_CLASS``, the
torch implementation (a subclass of :class:`grokconsole.tasks.api.Task`). Everything outside
the package learns about the task from its spec: the keys and defaults ``grok run`` accepts,
the metrics it logs (with their labels, panels and directions), its evaluation suites and what
it can do (``capabilities``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from grokconsole.runs.evalfiles import DIRECTIONS  # what a result file may say; metrics and suites say the same

# What a metric is to the tools: the three accuracies `grok ls` and `grok watch` show as columns,
# a loss, or anything else the task logs (drawn when a panel names it).
ROLES = ("train", "val", "ood", "loss", "other")
UNITS = ("epochs", "steps")
# Capabilities a task may declare:
#   features  — the model has ``features(x)``/``head(f)`` and the data environments and an OOD
#               split, so the M4/M5 feature interventions of ``grok eval`` apply;
#   generate  — the model generates text (evaluation by generation).
CAPABILITIES = ("features", "generate")


@dataclass(frozen=True)
class MetricSpec:
    """One history column a task logs."""

    key: str                    # the column name in history rows, e.g. "val_acc"
    label: str                  # long label (figure axes, `grok show`)
    short: str = ""             # legend label in the terminal panels (default: key)
    panel: str = ""             # the panel it is drawn on ("" : none)
    direction: str = "higher"   # higher | lower is better
    role: str = "other"         # train | val | ood | loss | other
    color: str = ""             # terminal colour name in `grok watch` ("" : white)
    right: bool = False         # drawn on the panel's right axis

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"metric {self.key}: direction {self.direction!r} not in {DIRECTIONS}")
        if self.role not in ROLES:
            raise ValueError(f"metric {self.key}: role {self.role!r} not in {ROLES}")


@dataclass(frozen=True)
class PanelSpec:
    """One plot panel of `grok watch` (its metrics are the MetricSpecs naming it, in order)."""

    name: str
    title: str
    ylim: tuple[float, float] | None = None   # fixed y range (accuracies: 0…1)
    log_toggle: bool = False                   # the `y` key switches this panel to a log scale
    grouped_skip: tuple[str, ...] = ()         # metrics left out of the grouped (mean ± std) view


@dataclass(frozen=True)
class SuiteSpec:
    """One `grok eval` suite: its result's metric and direction, and what the model must offer."""

    name: str
    metric: str                 # what each slice's value is, e.g. "accuracy"
    direction: str              # higher | lower is better
    description: str
    needs: tuple[str, ...] = ()  # capabilities the suite relies on (e.g. "generate")

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"suite {self.name}: direction {self.direction!r} not in {DIRECTIONS}")


@dataclass(frozen=True)
class TaskSpec:
    """Everything the tools know about a task without importing its torch code."""

    name: str
    description: str
    defaults: dict[str, Any]                                   # task keys and task-level overrides of common ones
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-condition overrides
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    validate: Callable[[dict[str, Any]], None] | None = None   # task checks; raise GrokError with one line
    max_n_train: Callable[[dict[str, Any]], int] | None = None
    # The icl suite's prompt sizes for a run's config and demonstration kind (cot): (tokens of one
    # demonstration, tokens of the query with its completion); bounds `grok eval --shots`.
    icl_tokens: Callable[[dict[str, Any], bool], tuple[int, int]] | None = None
    metrics: tuple[MetricSpec, ...] = ()
    panels: tuple[PanelSpec, ...] = ()
    suites: tuple[SuiteSpec, ...] = ()
    capabilities: frozenset[str] = frozenset()
    unit: str = "epochs"         # what the task's runs count in by default: epochs | steps
    epoch_name: str = "epoch"    # what one epoch of its loop is called on figure axes (e.g. "iteration")
    target: str = "val_acc"      # the metric the grokking detector watches (a declared metric)
    ood: str | None = None       # the out-of-distribution accuracy, if any (a declared metric)
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)   # named presets (--preset NAME)
    default: bool = False        # the task `grok run` uses without --task
    default_condition: str = "grokking"  # the condition `grok run --task NAME` uses without --condition
    # A language-model task's own built-in model (what model_path="" loads; None: the generic tiny
    # model of grokconsole.llm) and the module in its package that rebuilds it (`grok build-model
    # --task NAME`), whose build_builtin(out, seed=, steps=, progress=) returns its build.json.
    builtin_model: Path | None = None
    builder: str | None = None
    package: str = ""            # the implementing package; filled in by the registry

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"task {self.name}: unit {self.unit!r} not in {UNITS}")
        if self.default_condition not in ("grokking", "standard"):
            raise ValueError(f"task {self.name}: default_condition {self.default_condition!r} is not grokking or standard")
        unknown = set(self.capabilities) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"task {self.name}: unknown capabilities {sorted(unknown)}")
        panels = {p.name for p in self.panels}
        for m in self.metrics:
            if m.panel and m.panel not in panels:
                raise ValueError(f"task {self.name}: metric {m.key} names panel {m.panel!r}, which is not declared")
        keys = {m.key for m in self.metrics}
        for what, key in (("target", self.target), ("ood", self.ood)):
            if keys and key is not None and key not in keys:
                raise ValueError(f"task {self.name}: {what} {key!r} is not one of its metrics")

    def metric(self, key: str) -> MetricSpec | None:
        for m in self.metrics:
            if m.key == key:
                return m
        return None

    def role_key(self, role: str) -> str | None:
        """The column with ``role`` (train/val/ood), e.g. for the accuracy columns of `grok ls`."""
        for m in self.metrics:
            if m.role == role:
                return m.key
        return None

    def panel_metrics(self, panel: str) -> tuple[MetricSpec, ...]:
        return tuple(m for m in self.metrics if m.panel == panel)

    def suite(self, name: str) -> SuiteSpec | None:
        for s in self.suites:
            if s.name == name:
                return s
        return None

    def can(self, capability: str) -> bool:
        return capability in self.capabilities


# ── building blocks most tasks share ─────────────────────────────────────────────────────────

ACCURACY_PANEL = PanelSpec("accuracy", "accuracy", ylim=(0.0, 1.02), grouped_skip=("train_acc",))
MECHANISMS_PANEL = PanelSpec("mechanisms", "mechanisms")
# Progress measures (Nanda et al. 2023): quantities that move before the target jumps. The trainer
# records, for each metric a task draws here, its lead over the grokking epoch (runs.leads).
PROGRESS_PANEL = PanelSpec("progress", "progress measures", log_toggle=True)
# The shift tasks' panels, here because the paper figures draw them by panel (not by column name).
IRM_PANEL = PanelSpec("irm", "IRM penalty", log_toggle=True)
RELIANCE_PANEL = PanelSpec("reliance", "shortcut reliance")
LOSS_PANEL = PanelSpec("loss", "loss")


def accuracy_metrics(*, ood: bool) -> tuple[MetricSpec, ...]:
    """train/val (and OOD) accuracy on the accuracy panel, and their losses (no panel)."""
    out = [MetricSpec("train_acc", "Train accuracy", "train", "accuracy", role="train", color="blue"),
           MetricSpec("val_acc", "Val accuracy", "val", "accuracy", role="val", color="green")]
    if ood:
        out.append(MetricSpec("ood_acc", "OOD accuracy", "OOD", "accuracy", role="ood", color="magenta"))
    out += [MetricSpec("train_loss", "Train loss", "train loss", direction="lower", role="loss"),
            MetricSpec("val_loss", "Val loss", "val loss", direction="lower", role="loss")]
    return tuple(out)


MECHANISM_METRICS = (
    MetricSpec("weight_norm", "Weight norm ‖W‖", "‖W‖", "mechanisms", direction="lower", color="cyan"),
    MetricSpec("feature_rank", "Feature rank", "rank", "mechanisms", color="yellow", right=True),
)

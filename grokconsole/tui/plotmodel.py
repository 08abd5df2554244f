"""What the plot panels draw, computed off the UI thread (no Textual here).

The UI hands a :class:`ViewSpec` (selected and marked runs, grouping, smoothing, x axis) and
gets :class:`PlotData`: per panel, already smoothed and min/max-downsampled lines plus the
grokking markers, so ``render()`` on the UI thread only draws a few hundred points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from grokconsole.views.grouping import Grouping, format_value, group_items, settings_of
from grokconsole.views.phase import choose_axes, phase_grids, run_outcome, text_grid
from grokconsole.views.series import Series, downsample_minmax, ema_debiased, log10_safe, mean_std
from grokconsole.tasks.spec import MetricSpec
from grokconsole.views.taskviews import PanelView, panel_layout, run_panels, unit_of
from grokconsole.views.watchset import Watcher

SMOOTHING = (0.0, 0.6, 0.9)
X_AXES = ("epoch", "log epoch", "wall time")
RUN_COLORS = ("cyan", "magenta", "green", "yellow", "blue", "red", "orange", "white")
MAX_GROUP_RUNS = 64  # runs loaded at most for a grouped view
MAX_PHASE_PANELS = 2  # phase-diagram grids shown in the grouped view (the rest are counted)


@dataclass(frozen=True)
class ViewSpec:
    """Everything the plots depend on besides the data itself."""

    selected: str | None = None
    marked: tuple[str, ...] = ()
    visible: tuple[str, ...] = ()
    grouped: bool = False
    group_by: tuple[str, ...] | None = None  # --group-by; None: every setting that differs
    smoothing: float = 0.0
    x_axis: str = "epoch"
    log_y: bool = False  # the panels the specs mark ``log_toggle`` drawn in log10
    max_points: int = 240
    version: int = 0

    def runs(self) -> list[str]:
        """The runs whose histories the view needs."""
        if self.grouped:
            base = list(self.marked) or list(self.visible)
            return base[:MAX_GROUP_RUNS]
        out = [self.selected] if self.selected else []
        out += [k for k in self.marked if k != self.selected]
        return out


@dataclass
class Line:
    label: str
    xs: list[float]
    ys: list[float]
    color: str
    marker: str = "braille"
    right: bool = False


@dataclass
class Panel:
    key: str
    title: str
    lines: list[Line] = field(default_factory=list)
    vlines: list[tuple[float, str]] = field(default_factory=list)
    ylim: tuple[float, float] | None = None
    ylog: bool = False


@dataclass
class PlotData:
    version: int
    panels: list[Panel] = field(default_factory=list)
    xlabel: str = "epoch"
    note: str = ""
    grouped_by: str = ""  # grouped view: the keys that tell the groups apart (header text)
    phase: list[str] = field(default_factory=list)  # grouped view: the phase-diagram text grid, when two keys vary


def log_panel_titles() -> tuple[str, ...]:
    """The titles of the panels the log-scale key switches: those a task spec declares ``log_toggle``."""
    return tuple(view.panel.title for view in panels() if view.panel.log_toggle)


def panels() -> list[PanelView]:
    """Every panel any task declares, in declaration order (the plot grid's slots)."""
    return panel_layout()


@dataclass(frozen=True)
class _Run:
    """One plotted run: legend tag, history columns, ⚑ epoch, grouping settings, and the metrics
    its own task draws on each panel (per-task scoping, ``run_panels``)."""

    tag: str
    cols: dict[str, list[float]]
    grok: float | None
    settings: dict[str, Any]
    drawn: dict[str, tuple[MetricSpec, ...]]
    config: dict[str, Any] = field(default_factory=dict)
    memorization: float | None = None
    finished: bool = True  # neither running nor queued: a run that has not grokked by now never did


def _label(m: MetricSpec) -> str:
    return m.short or m.key


def _color(m: MetricSpec) -> str:
    return m.color or "white"


def _x_values(cols: dict[str, list[float]], x_axis: str, unit: str = "epochs") -> tuple[list[float], str]:
    epochs = cols.get("epoch", [])
    if unit == "steps" and cols.get("step"):  # a step-counted task: its x axis is the optimizer step
        epochs = cols["step"]
        if x_axis == "log epoch":
            return log10_safe(epochs), "log10 step"
        if x_axis != "wall time":
            return epochs, "step"
    if x_axis == "log epoch":
        return log10_safe(epochs), "log10 epoch"
    if x_axis == "wall time":
        times = cols.get("time")
        if times and any(math.isfinite(t) for t in times):
            return times, "wall time (s)"
        return epochs, "epoch (no wall time logged)"
    return epochs, "epoch"


def _x_of_epoch(cols: dict[str, list[float]], epoch: float, x_axis: str, unit: str = "epochs") -> float | None:
    if unit == "steps" and cols.get("step") and x_axis != "wall time":
        steps = [s for e, s in zip(cols.get("epoch", []), cols["step"]) if e >= epoch]
        if not steps:
            return None
        return (math.log10(steps[0]) if steps[0] > 0 else None) if x_axis == "log epoch" else steps[0]
    if x_axis == "log epoch":
        return math.log10(epoch) if epoch > 0 else None
    if x_axis == "wall time" and cols.get("time"):
        for e, t in zip(cols.get("epoch", []), cols["time"]):
            if e >= epoch and math.isfinite(t):
                return t
        return None
    return epoch


def _curve(cols: dict[str, list[float]], metric: str, xs: list[float], spec: ViewSpec,
           log_y: bool) -> Series | None:
    ys = cols.get(metric)
    if not ys or not any(math.isfinite(y) for y in ys):
        return None
    ys = ema_debiased(ys, spec.smoothing)
    if log_y:
        ys = log10_safe(ys)
    return downsample_minmax(xs, ys, spec.max_points)


def build_plot_data(watcher: Watcher, spec: ViewSpec) -> PlotData:
    """Load what the view needs and compute every panel (call from a worker thread)."""
    keys = spec.runs()
    with watcher.lock:
        watcher.keep_loaded(set(keys))
        snapshot: list[_Run] = []
        units = set()
        for key in keys:
            run = watcher.get(key)
            if run is not None:
                cols = {k: v[:] for k, v in run.columns.items()}  # a copy: the poll thread appends
                rec = run.record
                cond, n = rec.condition, rec.get("n_train")
                tag = f"{str(cond)[:4]} n{n} s{rec.get('seed', '?')}"
                settings = settings_of(rec.config, task=rec.get("task"), condition=cond, n_train=n)
                drawn = {view.panel.name: view.metrics for view in run_panels(rec.get("task"))}
                mem = rec.summary.get("memorization_epoch")
                snapshot.append(_Run(tag, cols, run.grok_epoch, settings, drawn, rec.config,
                                     float(mem) if isinstance(mem, (int, float)) and not isinstance(mem, bool) else None,
                                     rec.status not in ("running", "queued")))
                units.add(unit_of(rec.get("task")))
    data = PlotData(version=spec.version)
    if not snapshot:
        data.note = "no run selected"
        return data
    xlabel = "epoch"
    grouping = group_items(snapshot, lambda item: item.settings, spec.group_by, strict=False) if spec.grouped else None
    unit = "steps" if units == {"steps"} else "epochs"  # runs counted in steps share a step axis
    for view in panels():
        p = view.panel
        panel = Panel(p.name, p.title, ylim=p.ylim, ylog=p.log_toggle and spec.log_y)
        if grouping is not None:
            xlabel = _grouped_panel(panel, grouping, view, spec, unit) or xlabel
        else:
            xlabel = _runs_panel(panel, snapshot, view, spec, unit) or xlabel
        if panel.lines:
            data.panels.append(panel)
    data.xlabel = xlabel
    if grouping is not None:
        data.grouped_by = ", ".join(grouping.named) or "seeds only"
        data.note = f"{len(grouping.groups)} group(s) by {data.grouped_by}"
        if len(spec.marked or spec.visible) > MAX_GROUP_RUNS:
            data.note += f"; the first {MAX_GROUP_RUNS} runs (mark runs with space to choose)"
        data.phase = phase_lines(snapshot)
    return data


def phase_lines(snapshot: list[_Run]) -> list[str]:
    """The grouped runs' phase diagram as text (:mod:`grokconsole.views.phase`), empty unless two
    numeric settings vary; a cell fills in as its runs grok or finish."""
    axes = choose_axes([r.settings for r in snapshot], [r.config for r in snapshot])
    if isinstance(axes, str):
        return []
    grids = phase_grids(snapshot, lambda r: r.settings, lambda r: run_outcome(
        "delay", memorization=r.memorization, grokking=r.grok, ood=None, finished=r.finished), axes, "delay")
    lines = [f"phase: median grokking delay (epochs) by {axes.x} × {axes.y}; n seeds, ✗ never generalized, "
             "… running"]
    for grid in grids[:MAX_PHASE_PANELS]:
        if grid.label:
            lines.append(f"[{grid.label}]")
        lines += text_grid(grid)
    if len(grids) > MAX_PHASE_PANELS:
        lines.append(f"… and {len(grids) - MAX_PHASE_PANELS} more panels (grok export-figures draws them all)")
    return lines


def group_tag(settings: dict[str, Any], named: tuple[str, ...]) -> str:
    """A short legend tag of a group: ``grok n500`` plus what else tells it apart (``lr=0.003``)."""
    parts = [str(settings.get("condition"))[:4], f"n{settings.get('n_train')}"]
    for key in named:
        if key in ("condition", "n_train"):
            continue
        value = format_value(settings.get(key))
        parts.append(value if key == "task" else f"{key}={value}")
    return " ".join(parts)


def _runs_panel(panel: Panel, snapshot: list[_Run], view: PanelView, spec: ViewSpec, unit: str) -> str | None:
    overlay = len(snapshot) > 1
    xlabel = None
    for i, run in enumerate(snapshot):
        xs, xlabel = _x_values(run.cols, spec.x_axis, unit)
        color_run = RUN_COLORS[i % len(RUN_COLORS)]
        drawn = False
        for j, m in enumerate(_ordered(run.drawn.get(view.panel.name, ()))):
            curve = _curve(run.cols, m.key, xs, spec, panel.ylog)
            if curve is None or not len(curve):
                continue
            label = _label(m)
            if overlay:
                label = f"{run.tag} {label}"
                marker = ("braille", "hd", "dot")[j % 3]
            else:
                marker = "braille"
            panel.lines.append(Line(label, curve.xs, curve.ys, color_run if overlay else _color(m),
                                    marker, right=m.right))
            drawn = True
        if run.grok is not None and drawn:
            x = _x_of_epoch(run.cols, run.grok, spec.x_axis, unit)
            if x is not None:
                panel.vlines.append((x, "red" if not overlay else color_run))
    return xlabel


def _ordered(metrics: tuple[MetricSpec, ...]) -> list[MetricSpec]:
    """Left-axis metrics first, then the right-axis ones (the legend order)."""
    return [m for m in metrics if not m.right] + [m for m in metrics if m.right]


def _grouped_panel(panel: Panel, grouping: Grouping, view: PanelView, spec: ViewSpec, unit: str) -> str | None:
    xlabel = None
    for i, (_key, items) in enumerate(grouping.groups):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        name = group_tag(items[0].settings, grouping.named)
        metrics: dict[str, MetricSpec] = {}  # what any run of the group draws here, first run's order
        for run in items:
            for m in _ordered(run.drawn.get(view.panel.name, ())):
                metrics.setdefault(m.key, m)
        for m in metrics.values():
            if m.key in view.panel.grouped_skip:
                continue  # e.g. grouped accuracy shows val and OOD only: train curves would bury the bands
            curves = []
            for run in items:
                if m.key not in {d.key for d in run.drawn.get(view.panel.name, ())}:
                    continue
                xs, xlabel = _x_values(run.cols, spec.x_axis, unit)
                ys = run.cols.get(m.key)
                if not ys:
                    continue
                ys = ema_debiased(ys, spec.smoothing)
                if panel.ylog:
                    ys = log10_safe(ys)
                curves.append(Series(list(xs), list(ys)))
            if not curves:
                continue
            band = mean_std(curves)
            if not band.xs:
                continue
            mean = downsample_minmax(band.xs, band.mean, spec.max_points)
            tag = f"{name} {_label(m)} ×{len(curves)}"
            # The mean is drawn bold (half blocks), the ±std edges thin (braille) in the same colour.
            panel.lines.append(Line(tag, mean.xs, mean.ys, color, "hd", m.right))
            if len(curves) > 1:
                for edge in (band.lower, band.upper):
                    s = downsample_minmax(band.xs, edge, spec.max_points)
                    panel.lines.append(Line("", s.xs, s.ys, color, "braille", m.right))
        grok_epochs = [run.grok for run in items if run.grok is not None]
        if grok_epochs and panel.lines:
            x = _x_of_epoch(items[0].cols, sum(grok_epochs) / len(grok_epochs), spec.x_axis, unit)
            if x is not None:
                panel.vlines.append((x, color))
    return xlabel

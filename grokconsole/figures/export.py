"""The export: load runs, draw every registered figure, write tables and ``manifest.json``.

The registry :data:`FIGURES` is a plain list of builders; each takes the
:class:`ExportContext` and returns the files it wrote or a :class:`Skip` with the reason.
Adding a figure is adding one entry (see :func:`register_figure`). Progress is reported
through callbacks so the command line can draw a progress bar while this module stays
free of any terminal code.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from grokconsole.runs.version import __version__
from grokconsole.runs.discovery import scan_runs_dir
from grokconsole.runs.errors import GrokError
from grokconsole.runs.jsonio import write_json_atomic
from grokconsole.views.phase import check_phase
from grokconsole.figures.checkpoint_figure import figure_checkpoint_evals
from grokconsole.figures.expert_iteration import figure_expert_iteration, table_expert_iteration
from grokconsole.figures.context import ExportContext
from grokconsole.figures.data import LoadProblem, RunData
from grokconsole.figures.groups import grouping_of, groups_of, headline_n, run_settings
from grokconsole.figures.headline import figure1_smoking_gun, figure2_mechanisms, figure3_shortcut
from grokconsole.figures.intervention import figure_intervention_comparison
from grokconsole.figures.kshot import figure_kshot_icl
from grokconsole.figures.llm_delta import figure_delta_by_base, figure_delta_by_digits, table_delta_accuracy
from grokconsole.figures.phase import figure_phase_diagram, table_phase_diagram
from grokconsole.figures.progress import figure_progress_measures
from grokconsole.figures.style import get_style
from grokconsole.figures.tables import table1_ablations
from grokconsole.figures.transition import figure_phase_transition
from grokconsole.figures.work import FigureSpec, Outcome, draw_all, load_all

FORMATS = ("png", "pdf", "svg")
MANIFEST = "manifest.json"


FIGURES: list[FigureSpec] = [
    FigureSpec("figure1_smoking_gun", figure1_smoking_gun),
    FigureSpec("figure2_mechanisms", figure2_mechanisms),
    FigureSpec("figure3_shortcut", figure3_shortcut),
    FigureSpec("figure_phase_transition", figure_phase_transition),
    FigureSpec("figure_progress_measures", figure_progress_measures),
    FigureSpec("figure_intervention_comparison", figure_intervention_comparison),
    FigureSpec("table1_ablations", table1_ablations),
    FigureSpec("checkpoint_evals", figure_checkpoint_evals),
    FigureSpec("figure_kshot_icl", figure_kshot_icl),
    FigureSpec("figure_delta_by_base", figure_delta_by_base),
    FigureSpec("figure_delta_by_digits", figure_delta_by_digits),
    FigureSpec("table_delta_accuracy", table_delta_accuracy),
    FigureSpec("figure_expert_iteration", figure_expert_iteration),
    FigureSpec("table_expert_iteration", table_expert_iteration),
    FigureSpec("figure_phase_diagram", figure_phase_diagram),
    FigureSpec("table_phase_diagram", table_phase_diagram),
]


def register_figure(spec: FigureSpec) -> None:
    """Add a figure builder (replacing one of the same name)."""
    FIGURES[:] = [f for f in FIGURES if f.name != spec.name] + [spec]


@dataclass
class ExportOptions:
    runs_dir: Path
    out: Path
    runs_pattern: str | None = None
    formats: tuple[str, ...] = ("png", "pdf")
    n_train: int | None = None
    style: str = "paper"
    dpi: int = 300
    per_run: bool = True
    snapshots: list[int] | None = None
    compare: Path | None = None
    base_evals: list[Path] = field(default_factory=list)  # extra base-model result folders (--base-evals)
    group_by: tuple[str, ...] | None = None  # --group-by; None: every setting that differs
    phase: tuple[str, str] | None = None  # --phase x=KEY,y=KEY; None: chosen from the runs
    phase_metric: str = "delay"  # --phase-metric
    jobs: int = field(default_factory=lambda: default_jobs())
    command_line: list[str] = field(default_factory=lambda: list(sys.argv))


@dataclass
class ExportResult:
    runs: list[RunData]
    problems: list[LoadProblem]
    outcomes: list[Outcome]
    per_run: list[Outcome]
    headline: int | None
    manifest: Path
    grouping: str = ""  # how runs were grouped, in words
    n_groups: int = 0

    @property
    def failed(self) -> bool:
        return any(o.status == "failed" for o in self.outcomes + self.per_run)

    def per_run_drawn(self) -> int:
        return sum(1 for o in self.per_run if o.status == "written")


@dataclass
class Callbacks:
    """Progress hooks (all optional): a total is announced, then one call per item done."""

    runs_total: Callable[[int], None] = lambda n: None
    run_done: Callable[[str], None] = lambda run_id: None
    figures_total: Callable[[int], None] = lambda n: None
    figure_done: Callable[[Outcome], None] = lambda outcome: None


def default_jobs() -> int:
    """Worker processes: one per core, at most 4 (drawing is CPU-bound)."""
    return max(1, min(4, os.cpu_count() or 1))


def parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if not formats or bad:
        raise GrokError(f"unknown format {', '.join(bad) or repr(text)}; choose from: {', '.join(FORMATS)}")
    return formats


def _select(runs_dir: Path, pattern: str | None) -> tuple[list[Any], list[LoadProblem]]:
    """Matching run folders, and the entries of the runs folder that could not be examined."""
    if not Path(runs_dir).exists():
        raise GrokError(f"runs folder {runs_dir} does not exist")
    scan = scan_runs_dir(runs_dir)  # not a folder, or unreadable: one clear GrokError
    dirs = scan.runs
    skipped = [LoadProblem(s.name, s.reason) for s in scan.skipped]
    if pattern:
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            raise GrokError(f"invalid --runs regular expression {pattern!r}: {exc}") from None
        dirs = [d for d in dirs if rx.search(d.run_id)]
        skipped = [s for s in skipped if rx.search(s.run_id)]
    if not dirs:
        which = f" matching {pattern!r}" if pattern else ""
        also = f" ({'; '.join(s.reason for s in skipped[:3])})" if skipped else ""
        raise GrokError(f"no runs{which} in {runs_dir}{also}")
    return dirs, skipped


def base_eval_folders(opts: ExportOptions) -> list[Path]:
    """Untuned-model result folders: ``<runs-dir>/base_models/*`` and every ``--base-evals`` folder."""
    from grokconsole.runs.base_models import find_base_evals, is_base_eval_folder

    found = find_base_evals(opts.runs_dir)
    for folder in opts.base_evals:
        if not is_base_eval_folder(folder):
            raise GrokError(f"--base-evals {folder}: not a base-model result folder (no model.json; "
                            "write one with grok eval --base-model [DIR] --out FOLDER)")
        if Path(folder).resolve() not in {p.resolve() for p in found}:
            found.append(Path(folder))
    return found


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise GrokError(f"output folder {out} is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GrokError(f"cannot create output folder {out}: {exc.strerror}") from None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(opts: ExportOptions, ctx: ExportContext, problems: list[LoadProblem], outcomes: list[Outcome],
              per_run: list[Outcome]) -> dict[str, Any]:
    import matplotlib
    import numpy

    def rel(path: Path, base: Path) -> str:
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            return path.as_posix()

    def figure_entry(o: Outcome) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": o.name, "status": o.status,
                                 "files": [rel(p, opts.out) for p in o.files]}
        if o.reason:
            entry["reason"] = o.reason
        if o.notes:
            entry["notes"] = o.notes
        if o.summary:
            entry["summary"] = o.summary
        return entry

    files = [{"path": rel(p, opts.out), "sha256": _sha256(p)} for o in outcomes for p in o.files]
    return {
        "generator": "grok export-figures",
        "grokconsole_version": __version__,
        "matplotlib_version": matplotlib.__version__,
        "numpy_version": numpy.__version__,
        "python": sys.version.split()[0],
        "command_line": list(opts.command_line),
        "options": {"runs_dir": str(opts.runs_dir), "runs": opts.runs_pattern, "out": str(opts.out),
                    "formats": list(opts.formats), "n_train": opts.n_train, "style": opts.style,
                    "dpi": opts.dpi, "per_run": opts.per_run,
                    "base_evals": [str(p) for p in ctx.base_evals],
                    "group_by": list(opts.group_by) if opts.group_by is not None else None,
                    "phase": {"x": opts.phase[0], "y": opts.phase[1]} if opts.phase else None,
                    "phase_metric": opts.phase_metric},
        "headline_n_train": ctx.headline,
        "grouping": ctx.grouping,
        "groups": [{"group": g.key, "values": dict(g.values.items), "runs": [r.run_id for r in g.runs]}
                   for g in ctx.groups],
        "runs": [{"run_id": r.run_id, "layout": r.layout, "task": r.task, "condition": r.condition,
                  "n_train": r.n_train, "seed": r.seed, "group": g.key, "config_hash": r.config_hash,
                  "memorization_epoch": r.memorization_epoch,
                  "grokking_epoch": r.grokking_epoch, "grokking_source": r.grokking_source,
                  **({"notes": r.notes} if r.notes else {})}
                 for g in ctx.groups for r in g.runs],
        "malformed_runs": [{"run_id": p.run_id, "reason": p.reason} for p in problems],
        "figures": [figure_entry(o) for o in outcomes],
        "skipped": {o.name: o.reason for o in outcomes if o.status == "skipped"},
        "files": files,
        "per_run_figures": [{"path": rel(p, Path(opts.runs_dir)), "sha256": _sha256(p)}
                            for o in per_run for p in o.files],
        "per_run_failures": [{"name": o.name, "reason": o.reason} for o in per_run if o.status == "failed"],
    }


def run_export(opts: ExportOptions, cb: Callbacks | None = None) -> ExportResult:
    """Do the whole export; raises GrokError for bad options or when no run could be loaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cb = cb or Callbacks()
    style = get_style(opts.style)
    if opts.dpi < 10 or opts.dpi > 2400:
        raise GrokError(f"--dpi must be between 10 and 2400, got {opts.dpi}")
    base_evals = base_eval_folders(opts)
    try:
        run_dirs, skipped = _select(opts.runs_dir, opts.runs_pattern)
    except GrokError:
        if not base_evals or not Path(opts.runs_dir).is_dir():
            raise
        run_dirs, skipped = [], []  # only untuned-model results: the figures that need runs say so
    cb.runs_total(len(run_dirs))
    runs, problems = load_all(run_dirs, opts.jobs, cb.run_done)
    problems = skipped + problems
    if not runs and not base_evals:
        shown = "; ".join(f"{p.run_id}: {p.reason}" for p in problems[:3])
        raise GrokError(f"none of the {len(run_dirs)} runs in {opts.runs_dir} could be loaded ({shown})")
    if opts.phase is not None:  # a typo in --phase is the user's to fix, not a figure that failed
        check_phase(opts.phase, [run_settings(r) for r in runs])
    grouping = grouping_of(runs, opts.group_by)
    groups = groups_of(grouping)
    headline = headline_n(groups, opts.n_train)
    _check_out(opts.out)
    ordered = [r for g in groups for r in g.runs]
    ctx = ExportContext(runs=ordered, groups=groups, headline=headline, out=opts.out, formats=list(opts.formats),
                        style=style, dpi=opts.dpi, per_run=opts.per_run, headline_fixed=opts.n_train is not None,
                        snapshots=opts.snapshots, compare=opts.compare, base_evals=base_evals,
                        grouping=grouping.describe(), phase=opts.phase, phase_metric=opts.phase_metric)
    cb.figures_total(len(FIGURES) + (len(ordered) if opts.per_run else 0))
    with plt.rc_context(style.rc()):
        outcomes, per_run = draw_all(ctx, list(FIGURES), opts.jobs, cb.figure_done)
    manifest = opts.out / MANIFEST
    write_json_atomic(manifest, _manifest(opts, ctx, problems, outcomes, per_run))
    return ExportResult(ordered, problems, outcomes, per_run, headline, manifest, grouping.describe(), len(groups))

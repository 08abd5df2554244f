"""Checkpoint-eval diagrams from ``eval/by_checkpoint/step_<STEP>/<suite>.json``.

Per suite: per-slice series vs step, the macro average, relative change vs a baseline step,
deltas late − early, snapshot bars, domain aggregation, support (n). Across suites: a
tradeoff path and an objective quadrant. Against a second run (another stage): macro trends
and per-slice deltas on the slices both share. Every axis says which way is better: a
suite's ``direction`` (higher/lower) turns "relative change" and "delta" into "improvement",
so a positive bar is always good. ``export_checkpoint_diagrams`` writes it all plus a
``manifest.json`` listing what was drawn and what was skipped, and why.
"""
from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from grokconsole.figures.checkpoint_values import (axis_label, default_snapshots, eval_root, improvement, macro,
                                                   sign_note)
from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import SuiteTable, load_suite_tables
from grokconsole.runs.jsonio import write_json_atomic

BETTER, WORSE, NEUTRAL = "#2a9d8f", "#e76f51", "#577590"


@dataclass
class DiagramWriter:
    """Saves figures under ``out_dir`` and records what was written and what was skipped."""

    out_dir: Path
    formats: tuple[str, ...] = ("png",)
    dpi: int = 120
    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def save(self, fig: Any, rel: str) -> None:
        import matplotlib.pyplot as plt

        for fmt in self.formats:
            path = self.out_dir / f"{rel}.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=self.dpi, bbox_inches="tight")
            self.written.append(path)
        plt.close(fig)

    def skip(self, rel: str, reason: str) -> None:
        self.skipped.append((rel, reason))


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bars(ax: Any, names: list[str], values: list[float], colors: list[str] | str) -> None:
    ax.bar(range(len(names)), values, color=colors)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _signed_colors(values: list[float]) -> list[str]:
    return [BETTER if v > 0 else WORSE if v < 0 else NEUTRAL for v in values]


def draw_suite(w: DiagramWriter, t: SuiteTable, *, baseline: int | None = None,
               snapshots: Sequence[int] | None = None) -> None:
    """Every single-suite diagram of one run."""
    if not t.steps:
        w.skip(t.suite, "no evaluated checkpoints")
        return
    _draw_series(w, t)
    _draw_relative(w, t, baseline if baseline is not None else t.steps[0])
    _draw_deltas(w, t)
    _draw_snapshots(w, t, snapshots if snapshots else default_snapshots(t.steps))
    _draw_domains(w, t)
    if t.counts:
        fig, ax = _plt().subplots(figsize=(8, 4))
        _bars(ax, t.slices, [t.counts.get(s, 0) for s in t.slices], NEUTRAL)
        ax.set(ylabel="examples evaluated (n)", title=f"{t.suite}: support per slice")
        w.save(fig, f"{t.suite}/support/{t.suite}_support_n")


def _step_axis(ax: Any) -> None:
    """Whole-number step ticks: a checkpoint is saved at a step, never between two."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def _draw_series(w: DiagramWriter, t: SuiteTable) -> None:
    """Each slice's value, and the macro average, against the step (from two evaluated checkpoints:
    one checkpoint is a bar chart, in snapshots/)."""
    plt = _plt()
    name, steps, slices = t.suite, t.steps, t.slices
    if len(steps) < 2:
        w.skip(f"{name}/series", f"one evaluated checkpoint (step {steps[0]}): its values are in {name}/snapshots")
        return
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for s in slices:
        ax.plot(steps, [t.values[st].get(s, float("nan")) for st in steps], "-o", ms=3, label=s)
    ax.set(xlabel="step", ylabel=axis_label(t), title=f"{name}: {t.metric} by slice vs step")
    ax.legend(fontsize=7, ncol=2 if len(slices) > 8 else 1)
    ax.grid(alpha=0.3)
    _step_axis(ax)
    w.save(fig, f"{name}/series/{name}_by_slice_vs_step")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [macro(t, st) for st in steps], "-o", color=NEUTRAL)
    ax.set(xlabel="step", ylabel=f"macro {axis_label(t)}", title=f"{name}: macro {t.metric} vs step")
    ax.grid(alpha=0.3)
    _step_axis(ax)
    w.save(fig, f"{name}/macro/{name}_macro_vs_step")


def _draw_relative(w: DiagramWriter, t: SuiteTable, base: int) -> None:
    """The change of each slice, and of the macro average, relative to the baseline step."""
    plt = _plt()
    name, steps, slices = t.suite, t.steps, t.slices
    if base not in t.values:
        w.skip(f"{name}/relative", f"baseline step {base} was not evaluated")
        return
    if len(steps) < 2:
        w.skip(f"{name}/relative", "needs at least two evaluated checkpoints")
        return
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for s in slices:
        b = t.values[base].get(s, float("nan"))
        ax.plot(steps, [improvement(t, t.values[st].get(s, float("nan")), b, relative=True) for st in steps],
                "-o", ms=3, label=s)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="step", ylabel=f"% improvement of {t.metric} vs step {base}",
           title=f"{name}: relative change vs step {base} (positive = better; {t.direction} is better)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    _step_axis(ax)
    w.save(fig, f"{name}/relative/{name}_relative_vs_step{base}")
    fig, ax = plt.subplots(figsize=(7, 4))
    mb = macro(t, base)
    ax.plot(steps, [improvement(t, macro(t, st), mb, relative=True) for st in steps], "-o", color=NEUTRAL)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="step", ylabel=f"% improvement of macro {t.metric}",
           title=f"{name}: macro relative change vs step {base} (positive = better)")
    ax.grid(alpha=0.3)
    _step_axis(ax)
    w.save(fig, f"{name}/relative/{name}_macro_relative_vs_step{base}")


def _draw_deltas(w: DiagramWriter, t: SuiteTable) -> None:
    """Late minus early by slice, coloured by whether that is better."""
    name, steps, slices = t.suite, t.steps, t.slices
    if len(steps) < 2:
        w.skip(f"{name}/deltas", "needs at least two evaluated checkpoints")
        return
    early, late = steps[0], steps[-1]
    deltas = [t.values[late].get(s, float("nan")) - t.values[early].get(s, float("nan")) for s in slices]
    good = [d if t.direction == "higher" else -d for d in deltas]
    fig, ax = _plt().subplots(figsize=(8, 4))
    _bars(ax, slices, deltas, _signed_colors(good))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(ylabel=f"Δ {t.metric} (step {late} − step {early})",
           title=f"{name}: delta late − early by slice ({sign_note(t)}; green = better)")
    w.save(fig, f"{name}/deltas/{name}_delta_step_{late}_minus_{early}_by_slice")


def _draw_snapshots(w: DiagramWriter, t: SuiteTable, snapshots: Sequence[int]) -> None:
    """One bar chart of the slices per snapshot step."""
    name, slices = t.suite, t.slices
    for snap in snapshots:
        if snap not in t.values:
            w.skip(f"{name}/snapshots/{name}_step_{snap}_by_slice", f"step {snap} was not evaluated")
            continue
        fig, ax = _plt().subplots(figsize=(8, 4))
        _bars(ax, slices, [t.values[snap].get(s, float("nan")) for s in slices], NEUTRAL)
        ax.set(ylabel=axis_label(t), title=f"{name}: step {snap} by slice")
        w.save(fig, f"{name}/snapshots/{name}_step_{snap}_by_slice")


def _draw_domains(w: DiagramWriter, t: SuiteTable) -> None:
    """Each domain's mean at early, mid and late steps (when the slices span several domains)."""
    name, steps, slices = t.suite, t.steps, t.slices
    domains = sorted(set(t.domains.values()))
    if len(domains) < 2:
        w.skip(f"{name}/domains", "all slices share one domain")
        return
    picks = default_snapshots(steps)
    fig, ax = _plt().subplots(figsize=(7, 4))
    width = 0.8 / len(picks)
    for i, st in enumerate(picks):
        vals = [macro(t, st, [s for s in slices if t.domains.get(s) == d]) for d in domains]
        ax.bar([j + i * width for j in range(len(domains))], vals, width, label=f"step {st}")
    ax.set_xticks([j + width * (len(picks) - 1) / 2 for j in range(len(domains))])
    ax.set_xticklabels(domains)
    ax.set(ylabel=f"domain mean {axis_label(t)}", title=f"{name}: domains at early / mid / late steps")
    ax.legend(fontsize=8)
    w.save(fig, f"{name}/domains/{name}_domain_early_mid_late")


def draw_tradeoff(w: DiagramWriter, a: SuiteTable, b: SuiteTable, *, baseline: int | None = None) -> None:
    """Macro of suite ``a`` against macro of suite ``b`` across checkpoints, and the objective quadrant."""
    plt = _plt()
    steps = sorted(set(a.steps) & set(b.steps))
    rel = f"cross_suite/tradeoff/{a.suite}_vs_{b.suite}_tradeoff"
    if len(steps) < 2:
        w.skip(rel, "the two suites share fewer than two evaluated checkpoints")
        return
    xs, ys = [macro(a, s) for s in steps], [macro(b, s) for s in steps]
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.plot(xs, ys, "-", color="lightgrey", zorder=1)
    sc = ax.scatter(xs, ys, c=steps, cmap="viridis", zorder=2)
    fig.colorbar(sc, ax=ax, label="step")
    ax.set(xlabel=f"macro {axis_label(a)}", ylabel=f"macro {axis_label(b)}",
           title=f"tradeoff: {a.suite} vs {b.suite} across checkpoints")
    ax.grid(alpha=0.3)
    w.save(fig, rel)
    base = baseline if baseline in steps else steps[0]
    fig, ax = plt.subplots(figsize=(6, 5))
    gx = [improvement(a, x, macro(a, base), relative=False) for x in xs]
    gy = [improvement(b, y, macro(b, base), relative=False) for y in ys]
    ax.scatter(gx, gy, c=steps, cmap="viridis")
    for x, y, s in zip(gx, gy, steps):
        ax.annotate(str(s), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set(xlabel=f"{a.suite} improvement vs step {base} (positive = better)",
           ylabel=f"{b.suite} improvement vs step {base} (positive = better)",
           title="objective quadrant: top right = better on both")
    w.save(fig, f"cross_suite/objective/{a.suite}_vs_{b.suite}_quadrant_vs_step{base}")


def draw_stage_compare(w: DiagramWriter, cur: SuiteTable, ref: SuiteTable, cur_label: str, ref_label: str) -> None:
    """This run (a later stage) against a reference run on the slices both have."""
    plt = _plt()
    name = cur.suite
    shared = [s for s in cur.slices if s in set(ref.slices)]
    if not shared:
        w.skip(f"stage_compare/{name}", f"{cur_label} and {ref_label} share no slice of {name}")
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for tab, label, style in ((ref, ref_label, "--s"), (cur, cur_label, "-o")):
        ax.plot(tab.steps, [macro(tab, st, shared) for st in tab.steps], style, ms=4, label=label)
    ax.set(xlabel="step", ylabel=f"macro {axis_label(cur)} (shared slices)",
           title=f"{name}: {cur_label} vs {ref_label}, {len(shared)} shared slices")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    w.save(fig, f"stage_compare/{name}/{name}_stage_vs_stage_macro_vs_step")
    overlap = sorted(set(cur.steps) & set(ref.steps))
    if not overlap:
        w.skip(f"stage_compare/{name}/deltas", f"{cur_label} and {ref_label} share no evaluated step")
        return
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(overlap)
    for i, st in enumerate(overlap):
        deltas = [cur.values[st].get(s, float("nan")) - ref.values[st].get(s, float("nan")) for s in shared]
        ax.bar([j + i * width for j in range(len(shared))], deltas, width, label=f"step {st}")
    ax.set_xticks([j + width * (len(overlap) - 1) / 2 for j in range(len(shared))])
    ax.set_xticklabels(shared, rotation=45, ha="right", fontsize=8)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(ylabel=f"Δ {cur.metric} ({cur_label} − {ref_label})",
           title=f"{name}: per-slice delta on overlap steps ({sign_note(cur)} for {cur_label})")
    ax.legend(fontsize=8)
    w.save(fig, f"stage_compare/{name}/{name}_delta_by_slice_overlap")
    st = overlap[-1]
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = range(len(shared))
    ax.bar([x - 0.2 for x in xs], [ref.values[st].get(s, float("nan")) for s in shared], 0.4, label=ref_label)
    ax.bar([x + 0.2 for x in xs], [cur.values[st].get(s, float("nan")) for s in shared], 0.4, label=cur_label)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(shared, rotation=45, ha="right", fontsize=8)
    ax.set(ylabel=axis_label(cur), title=f"{name}: shared slices at step {st}")
    ax.legend(fontsize=8)
    w.save(fig, f"stage_compare/{name}/{name}_slices_step_{st}")


def export_checkpoint_diagrams(run_dirs: Sequence[Path], out_dir: Path, snapshots: Sequence[int] | None = None,
                               compare: Path | None = None, *, baseline: int | None = None,
                               formats: Sequence[str] = ("png",), dpi: int = 120,
                               ) -> tuple[list[Path], list[tuple[str, str]]]:
    """Draw every checkpoint-eval diagram of each run (into ``out_dir/<run>/`` when several).

    ``compare`` is a reference run (e.g. the previous stage) drawn against each run. Returns
    the files written and ``(figure, reason)`` for each one skipped; also writes
    ``manifest.json`` in ``out_dir``.
    """
    out_dir = Path(out_dir)
    written: list[Path] = []
    skipped: list[tuple[str, str]] = []
    ref_tables: dict[str, SuiteTable] = {}
    if compare is not None:
        ref_root = eval_root(compare)
        if ref_root is None:
            skipped.append(("stage_compare", f"{compare} has no by_checkpoint results"))
        else:
            ref_tables = load_suite_tables(ref_root)
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        label = run_dir.name
        root = eval_root(run_dir)
        w = DiagramWriter(out_dir / label if len(run_dirs) > 1 else out_dir, tuple(formats), dpi)
        if root is None:
            skipped.append((label, "no eval/by_checkpoint results (run `grok eval` first)"))
            continue
        tables = load_suite_tables(root)
        if not tables:
            skipped.append((label, "eval/by_checkpoint holds no suite results"))
            continue
        for table in tables.values():
            draw_suite(w, table, baseline=baseline, snapshots=snapshots)
        if len(tables) < 2:
            w.skip("cross_suite", "only one suite evaluated")
        for a, b in itertools.combinations(sorted(tables), 2):
            draw_tradeoff(w, tables[a], tables[b], baseline=baseline)
        if compare is not None and ref_tables:
            ref_label = Path(compare).name
            for name, table in tables.items():
                if name in ref_tables:
                    draw_stage_compare(w, table, ref_tables[name], label, ref_label)
                else:
                    w.skip(f"stage_compare/{name}", f"{ref_label} has no {name} results")
        written += w.written
        skipped += [(f"{label}: {rel}" if len(run_dirs) > 1 else rel, why) for rel, why in w.skipped]
    try:
        write_json_atomic(out_dir / "manifest.json", {
            "written": [str(p.relative_to(out_dir)) for p in written],
            "skipped": [{"figure": f, "reason": r} for f, r in skipped],
            "runs": [str(r) for r in run_dirs], "compare": str(compare) if compare else None,
            "snapshots": list(snapshots) if snapshots else "early/mid/late", "baseline_step": baseline,
        })
    except OSError as exc:
        raise GrokError(f"cannot write to {out_dir}: {exc.strerror}") from None
    return written, skipped


def main(argv: list[str] | None = None) -> int:
    """``python -m grokconsole.figures.checkpoint_evals RUN... --out DIR``: these diagrams for chosen
    runs, with snapshot steps and a reference run of your own (export-figures draws them for every
    run with checkpoint evaluations)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m grokconsole.figures.checkpoint_evals")
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--snapshots", default="", help="steps, e.g. 2000,10000,22000 (default early/mid/late)")
    ap.add_argument("--compare", type=Path, default=None, help="a reference run (e.g. the previous stage)")
    ap.add_argument("--baseline", type=int, default=None, help="baseline step for relative charts")
    a = ap.parse_args(argv)
    try:
        snaps = [int(s) for s in a.snapshots.split(",") if s.strip()] or None
    except ValueError:
        ap.error(f"bad --snapshots {a.snapshots!r}: use steps like 2000,10000")
    try:
        written, skipped = export_checkpoint_diagrams(a.runs, a.out, snaps, a.compare, baseline=a.baseline)
    except GrokError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(written)} diagrams in {a.out}; {len(skipped)} skipped (see {a.out / 'manifest.json'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The language-model results behind the k-shot and δ-accuracy figures, gathered from an export's inputs.

Runs of the addition task contribute their ``accuracy`` suite at the last evaluated checkpoint (and
their ``icl`` suite); base-model folders contribute the untuned model. A run's δ is measured against
the untuned model it was tuned from: the base-model folder of the same model when there is one, else
the run's own step-0 checkpoint (the untuned model with a fresh adapter). Runs are grouped by
(condition, training base, CoT); a group's δ is the mean ± sample std over its runs (seeds), a
single run's δ carries the 95 % interval of its two accuracies instead.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.base_models import BASE_STEP, MODEL_FILE, model_identity
from grokconsole.figures.context import ExportContext
from grokconsole.tasks.registry import result_schema, tasks_that_can

# The records below come from a task's result schema, found through the registry (this module
# names no task): ``LlmResults`` (a source's results by step), ``AccuracyCell``, ``IclPoint``.
LlmResults = Any
AccuracyCell = Any
IclPoint = Any


def llm_tasks() -> tuple[str, ...]:
    """The tasks whose runs hold language-model results: those whose spec can ``generate`` and
    whose package has a result schema."""
    return tuple(name for name in tasks_that_can("generate") if result_schema(name) is not None)
COT_COLOR = "#2563EB"
PLAIN_COLOR = "#D97706"
BASE_COLORS = {8: "#059669", 9: "#7C3AED", 10: "#DC2626"}


def truthy(value: Any) -> bool:
    """A config flag written by ``--set cot=true`` (a bool) or by hand (``"true"``, ``1``)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def run_sources(ctx: ExportContext, figure: str) -> list[LlmResults]:
    """Every run of a language-model task with its results (possibly none), in the export's order;
    a strange slice is named in ``figure``'s notes."""
    out = []
    for run in ctx.runs:
        config = read_json(Path(run.root) / "config.json", default=None)
        if not isinstance(config, dict) or config.get("task") not in llm_tasks():
            continue
        schema = result_schema(config["task"])
        res = schema.read_results(run.root, run.run_id, "run", model_identity(config.get("model_path")), config)
        for problem in res.problems:
            ctx.note(figure, problem)
        out.append(res)
    return out


def _base_schema(folder: Path) -> Any:
    """The result schema of the task a base-model folder was evaluated for (``model.json``'s
    ``task``; a folder that does not say is read with the first language-model task's)."""
    info = read_json(Path(folder) / MODEL_FILE, default=None)
    task = info.get("task") if isinstance(info, dict) else None
    schema = result_schema(task) if task in llm_tasks() else None
    if schema is None:
        known = llm_tasks()
        if not known:
            raise GrokError(f"{folder}: no installed task reads base-model results")
        schema = result_schema(known[0])
    return schema


def base_sources(ctx: ExportContext, figure: str) -> list[LlmResults]:
    """Every base-model result folder that reads (a broken one is named in the figure's notes)."""
    out = []
    for folder in ctx.base_evals:
        try:
            res = _base_schema(folder).read_base_eval(folder)
        except GrokError as exc:
            ctx.note(figure, str(exc))
            continue
        for problem in res.problems:
            ctx.note(figure, problem)
        out.append(res)
    return out


@dataclass
class RunDelta:
    """One run's accuracy at its last evaluated checkpoint and its untuned baseline, per (base, digits)."""

    run_id: str
    condition: str
    train_base: int
    train_digits: int
    cot: bool
    step: int
    cells: dict[tuple[int, int], AccuracyCell]
    baseline: dict[tuple[int, int], AccuracyCell]
    baseline_source: str


def run_deltas(ctx: ExportContext, figure: str) -> tuple[list[RunDelta], str | None]:
    """Runs that have accuracy results and a baseline; else the reason nothing can be drawn."""
    runs = run_sources(ctx, figure)
    if not runs:
        return [], f"no run of {', '.join(llm_tasks())} (grok run --task baseadd)"
    evaluated = [r for r in runs if r.accuracy]
    if not evaluated:
        return [], (f"no {', '.join(llm_tasks())} run has accuracy results "
                    "(grok eval RUN --suite accuracy)")
    bases = {b.model: b for b in base_sources(ctx, figure) if b.accuracy}
    out: list[RunDelta] = []
    no_baseline: list[str] = []
    for res in evaluated:
        step = res.last_accuracy_step()
        assert step is not None
        if res.model in bases:
            ref = bases[res.model]
            baseline, source = ref.accuracy[ref.last_accuracy_step() or BASE_STEP], ref.label
        elif BASE_STEP in res.accuracy and step != BASE_STEP:
            baseline, source = res.accuracy[BASE_STEP], f"{res.label} step {BASE_STEP}"
        else:
            no_baseline.append(res.label)
            continue
        cfg = res.config
        try:
            train_base, digits = int(cfg.get("base", 10)), int(cfg.get("n_digits", 2))
        except (TypeError, ValueError):
            ctx.note(figure, f"{res.label}: config base/n_digits are not integers, left out")
            continue
        out.append(RunDelta(res.label, str(cfg.get("condition") or "standard"), train_base, digits,
                            truthy(cfg.get("cot")), step, res.accuracy[step], baseline, source))
    if no_baseline:
        ctx.note(figure, f"no untuned baseline for {', '.join(no_baseline)} (grok eval --base-model "
                         "[MODEL_DIR] --suite accuracy, or evaluate the run's step-0 checkpoint): left out")
    if not out:
        return [], ("no untuned baseline for any evaluated run: evaluate the base model "
                    "(grok eval --base-model [MODEL_DIR] --suite accuracy) or the runs' step-0 checkpoints")
    return out, None


@dataclass
class DeltaCell:
    """δ accuracy points (100 × (tuned − untuned)) of one group at one (eval base, digits)."""

    condition: str
    train_base: int
    cot: bool
    eval_base: int
    eval_digits: int
    runs: list[str] = field(default_factory=list)
    accs: list[float] = field(default_factory=list)
    baselines: list[float] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    acc_cis: list[tuple[float, float] | None] = field(default_factory=list)       # 95 % Wilson, per run
    baseline_cis: list[tuple[float, float] | None] = field(default_factory=list)  # of each run's baseline

    @property
    def deltas(self) -> list[float]:
        return [100.0 * (a - b) for a, b in zip(self.accs, self.baselines)]

    @staticmethod
    def _mean_std(values: list[float]) -> tuple[float, float]:
        if not values:
            return math.nan, math.nan
        mean = sum(values) / len(values)
        if len(values) < 2:
            return mean, math.nan
        return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))

    def acc(self) -> tuple[float, float]:
        return self._mean_std(self.accs)

    def delta(self) -> tuple[float, float]:
        return self._mean_std(self.deltas)

    def baseline(self) -> float:
        return self._mean_std(self.baselines)[0]

    def delta_ci(self) -> tuple[float, float] | None:
        """The 95 % interval of a single run's δ (points), from the Wilson intervals of its accuracy
        and of its baseline (Newcombe's method for a difference of proportions); None for several
        runs (their spread is the seed std) or a missing interval."""
        if len(self.accs) != 1 or self.acc_cis[0] is None:
            return None
        p1, (l1, u1), p2 = self.accs[0], self.acc_cis[0], self.baselines[0]
        l2, u2 = self.baseline_cis[0] or (p2, p2)
        d = p1 - p2
        return (100.0 * (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)),
                100.0 * (d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)))


def delta_cells(runs: list[RunDelta]) -> dict[tuple[str, int, bool, int, int], DeltaCell]:
    """Group runs by (condition, train base, CoT) and collect every (eval base, digits) both sides have."""
    cells: dict[tuple[str, int, bool, int, int], DeltaCell] = {}
    for r in runs:
        for (base, digits), cell in sorted(r.cells.items()):
            ref = r.baseline.get((base, digits))
            if ref is None:
                continue
            key = (r.condition, r.train_base, r.cot, base, digits)
            dc = cells.setdefault(key, DeltaCell(*key))
            dc.runs.append(r.run_id)
            dc.accs.append(cell.value)
            dc.baselines.append(ref.value)
            dc.acc_cis.append(cell.ci95)
            dc.baseline_cis.append(ref.ci95)
            if r.baseline_source not in dc.sources:
                dc.sources.append(r.baseline_source)
    return dict(sorted(cells.items(), key=lambda kv: (condition_order(kv[0][0]), *kv[0][1:])))


def condition_order(condition: str) -> tuple[int, str]:
    return ({"grokking": 0, "standard": 1}.get(condition, 2), condition)


def base_color(base: int) -> str:
    from grokconsole.figures.style import PALETTE

    return BASE_COLORS.get(base, PALETTE[base % len(PALETTE)])

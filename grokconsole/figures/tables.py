"""Table 1 (ablations): a row per run and a grouped table (a row per group of seeds, mean ± std).

Both name the task, condition and n_train, and a column for every other setting that tells
the groups apart (e.g. ``lr`` when runs differ in learning rate).

Written as CSV (full precision, empty cell = no value), Markdown and LaTeX (3 significant
decimals, "—" = no value). Per-run definitions follow the user's older plotting script
(``experiments/plot_results.py``): ``irm_drop_epoch`` is the epoch of the largest one-step change of ``irm_mean``;
``epoch_gap = |grokking_epoch − irm_drop_epoch|``; ``irm_drop_pct`` is the fall from the first
IRM value to the smallest, in percent of the first. The columns behind them come from the task
specs (:mod:`grokconsole.figures.metrics`): the run's val and OOD accuracy by role, the IRM
penalty and the shortcut ratio by the panel the specs draw them on.
"""
from __future__ import annotations

import csv
import io
import math
import warnings
from pathlib import Path
from typing import Any

from grokconsole.figures.context import ExportContext, Skip
from grokconsole.figures.data import RunData
from grokconsole.figures.groups import Group
from grokconsole.figures.metrics import irm_key, ratio_key, role_key
from grokconsole.views.formatting import CONTROL_CHARS

IDENTITY = ("task", "condition", "n_train")
NUMERIC = ("best_val_acc", "best_ood_acc", "memorization_epoch", "grokking_epoch", "irm_drop_epoch", "epoch_gap",
           "irm_drop_pct", "final_shortcut_ratio")
NAN = float("nan")


def _text(value: Any) -> str:
    """A value as table text: control characters dropped (a newline or tab becomes a space)."""
    return CONTROL_CHARS.sub(lambda m: " " if m.group() in "\n\t\r" else "", str(value))


def _finite(values: Any) -> Any:
    import numpy as np

    return values[np.isfinite(values)] if values is not None else np.array([])


def _none(value: float | None) -> float:
    return NAN if value is None else float(value)


def setting_columns(groups: list[Group]) -> list[str]:
    """The settings beyond task, condition and n_train that tell the groups apart."""
    return [k for k in (groups[0].named if groups else ()) if k not in IDENTITY]


def run_row(run: RunData) -> dict[str, Any]:
    """The table-1 row of one run (NaN where the run lacks what a column needs)."""
    import numpy as np

    cols, epochs = run.columns, run.epochs
    task = run.task or None
    val = _finite(cols.get(role_key(task, "val")))
    ood = _finite(cols.get(role_key(task, "ood")))
    irm_drop_epoch = irm_drop_pct = NAN
    irm_column, ratio_column = irm_key(), ratio_key()
    irm = cols.get(irm_column) if irm_column else None
    if irm is not None and np.isfinite(irm).any():
        ok = np.isfinite(irm)
        irm_ok, ep_ok = irm[ok], epochs[ok]
        first, lowest = float(irm_ok[0]), float(irm_ok.min())
        irm_drop_pct = (first - lowest) / (first + 1e-8) * 100
        if len(irm_ok) > 1:
            step = np.abs(np.diff(irm_ok))
            irm_drop_epoch = float(ep_ok[int(np.argmax(step)) + 1])
    grok = _none(run.grokking_epoch)
    gap = abs(grok - irm_drop_epoch) if math.isfinite(grok) and math.isfinite(irm_drop_epoch) else NAN
    ratio = _finite(cols.get(ratio_column) if ratio_column else None)
    return {
        "run_id": run.run_id, "task": run.task or None, "condition": run.condition,
        "n_train": run.n_train, "seed": run.seed,
        "best_val_acc": float(val.max()) if len(val) else NAN,
        "best_ood_acc": float(ood.max()) if len(ood) else NAN,
        "memorization_epoch": _none(run.memorization_epoch),
        "grokking_epoch": grok,
        "irm_drop_epoch": irm_drop_epoch,
        "epoch_gap": gap,
        "irm_drop_pct": irm_drop_pct,
        "final_shortcut_ratio": float(ratio[-1]) if len(ratio) else NAN,
    }


def run_rows(groups: list[Group]) -> list[dict[str, Any]]:
    """Rows in group order, seeds within; each with the group's distinguishing settings."""
    extra = setting_columns(groups)
    return [{**run_row(run), **{k: group.values.get(k) for k in extra}} for group in groups for run in group.runs]


def grouped_rows(groups: list[Group], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and sample std (ddof=1) of every numeric column per group."""
    import numpy as np

    by_id = {r["run_id"]: r for r in rows}
    out = []
    for group in groups:
        members = [by_id[run.run_id] for run in group.runs]
        tasks = {m["task"] for m in members}
        row: dict[str, Any] = {"task": tasks.pop() if len(tasks) == 1 else "mixed", "condition": group.condition,
                               "n_train": group.n_train,
                               **{k: group.values.get(k) for k in setting_columns(groups)},
                               "n_runs": len(members),
                               "n_grokked": sum(1 for m in members if math.isfinite(m["grokking_epoch"]))}
        for col in NUMERIC:
            values = np.array([m[col] for m in members], dtype=float)
            values = values[np.isfinite(values)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=RuntimeWarning)
                row[f"{col}_mean"] = float(values.mean()) if len(values) else NAN
                row[f"{col}_std"] = float(values.std(ddof=1)) if len(values) > 1 else NAN
        out.append(row)
    return out


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return _text(value)


def _short(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.3f}"
    return _text(value)


def _pm(mean: float, std: float) -> str:
    """"mean ± std" with both numbers at the same precision (integers stay integers)."""
    if not math.isfinite(mean):
        return "—"
    if not math.isfinite(std):
        return _short(mean)
    if float(mean).is_integer() and float(std).is_integer():
        return f"{int(mean)} ± {int(std)}"
    return f"{mean:.3f} ± {std:.3f}"


def run_columns(groups: list[Group]) -> list[str]:
    """Columns of the per-run table: id, task, condition, n_train, other settings, seed, numbers."""
    return ["run_id", *IDENTITY, *setting_columns(groups), "seed", *NUMERIC]


def grouped_columns(groups: list[Group]) -> list[str]:
    """Columns of the grouped table (CSV: a mean and a std column per number)."""
    return [*IDENTITY, *setting_columns(groups), "n_runs", "n_grokked"] + \
        [f"{c}_{s}" for c in NUMERIC for s in ("mean", "std")]


def _display(rows: list[dict[str, Any]], columns: list[str], grouped: bool) -> tuple[list[str], list[list[str]]]:
    """Header and text cells for Markdown and LaTeX (the grouped table shows mean ± std in one cell)."""
    if not grouped:
        return [_text(c) for c in columns], [[_short(r[c]) for c in columns] for r in rows]
    head = [c for c in columns if not c.endswith(("_mean", "_std"))]
    header = [*(_text(c) for c in head), *NUMERIC]
    body = [[_short(r[c]) for c in head] + [_pm(r[f"{c}_mean"], r[f"{c}_std"]) for c in NUMERIC] for r in rows]
    return header, body


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_text(c) for c in columns])
    for r in rows:
        writer.writerow([_csv_cell(r[c]) for c in columns])
    return buf.getvalue()


def to_markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$", "—": "--"}


def _tex_escape(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text)


def to_latex(header: list[str], body: list[list[str]], caption: str) -> str:
    text_columns = len(header) - len(NUMERIC)  # identity and settings: left-aligned; numbers: right
    lines = [r"% needs \usepackage{booktabs}", r"\begin{table}[t]", r"\centering", r"\small", rf"\caption{{{caption}}}",
             r"\begin{tabular}{" + "l" * text_columns + "r" * len(NUMERIC) + "}", r"\toprule",
             " & ".join(_tex_escape(h) for h in header) + r" \\", r"\midrule"]
    lines += [" & ".join(_tex_escape(c) for c in row) + r" \\" for row in body]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_table(out: Path, name: str, texts: dict[str, str]) -> list[Path]:
    """One table in several formats: ``texts`` maps an extension (csv, md, tex) to the file's text."""
    return [_write(out / f"{name}.{ext}", text) for ext, text in texts.items()]


def table1_ablations(ctx: ExportContext) -> list[Path] | Skip:
    """table1_ablations.{csv,md,tex} (a row per run) and table1_ablations_grouped.{csv,md,tex}."""
    if not ctx.runs:
        return Skip("no runs")
    rows = run_rows(ctx.groups)
    grouped = grouped_rows(ctx.groups, rows)
    columns = run_columns(ctx.groups)
    written = [_write(ctx.out / "table1_ablations.csv", to_csv(rows, columns))]
    header, body = _display(rows, columns, grouped=False)
    written.append(_write(ctx.out / "table1_ablations.md", to_markdown(header, body)))
    written.append(_write(ctx.out / "table1_ablations.tex",
                          to_latex(header, body, "Ablations: one row per run.")))
    g_columns = grouped_columns(ctx.groups)
    written.append(_write(ctx.out / "table1_ablations_grouped.csv", to_csv(grouped, g_columns)))
    header, body = _display(grouped, g_columns, grouped=True)
    written.append(_write(ctx.out / "table1_ablations_grouped.md", to_markdown(header, body)))
    keys = ", ".join(_text(g) for g in (*IDENTITY, *setting_columns(ctx.groups)))
    written.append(_write(ctx.out / "table1_ablations_grouped.tex", to_latex(
        header, body, f"Ablations by {_tex_escape(keys)}: mean $\\pm$ std over seeds.")))
    return written

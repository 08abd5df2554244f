"""Readers and writers survive any value: overflowed metrics, absurdly nested lines, huge or junk last lines.

Every case is a run folder written by the test. A value that is not finite or beyond ±1e15 is
data (shown as logged, skipped by fits and detection with a note); a line that is not a JSON
object is named and skipped, and the rows around it are kept.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole import Tracker
from grokconsole.cli import app
from grokconsole.figures.data import load_run_data
from grokconsole.runs.detection import analyze, fit_transition
from grokconsole.runs.discovery import load_run
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.history import parse_jsonl_chunk
from grokconsole.runs.jsonio import loads
from grokconsole.runs.rise import RiseTracker
from grokconsole.tui.plotmodel import ViewSpec, build_plot_data
from grokconsole.views.watchset import Watcher
from tests.tui.fakeruns import curve_row, make_run

runner = CliRunner()
PLAIN = "20260101-000000-modarith-grokking-n500-s0"
OTHER = "20260101-000001-modarith-grokking-n500-s1"
DEEP = "[" * 100_000 + "]" * 100_000
OVERFLOWED = ['{"epoch": %d, "train_acc": 1.0, "val_acc": 1e308, "ood_acc": ' + "1" + "0" * 400  # an integer no float holds
              + ', "irm_mean": 1e308}',
              '{"epoch": %d, "train_acc": 1.0, "val_acc": Infinity, "ood_acc": Infinity, "irm_mean": Infinity}',
              '{"epoch": %d, "train_acc": 1.0, "val_acc": -Infinity, "ood_acc": NaN, "irm_mean": -Infinity}']


def invoke(*args: str):  # noqa: ANN201
    return runner.invoke(app, list(args), env={"COLUMNS": "250"})


def append_lines(root: Path, lines: list[str]) -> None:
    with open(root / "results" / "history.jsonl", "a") as fh:
        fh.write("".join(line + "\n" for line in lines))


def overflowed_runs(runs: Path) -> Path:
    """A run that memorized and never generalized, then logged 1e308, ±Infinity and NaN; and a normal one."""
    root = make_run(runs, PLAIN, grok_at=None, summary=False)
    append_lines(root, [OVERFLOWED[i % 3] % (410 + 10 * i) for i in range(12)])
    other = make_run(runs, OTHER, seed=1)
    # Ordinary values at the same epochs: a mean and a std over the two seeds meet 1e308.
    append_lines(other, ['{"epoch": %d, "train_acc": 1.0, "val_acc": 0.5, "ood_acc": 0.5, "irm_mean": 0.5}'
                    % (410 + 10 * i) for i in range(12)])
    return root


def test_detection_and_fits_skip_values_that_are_not_finite_or_huge() -> None:
    rows = [curve_row(e, grok_at=None) for e in range(0, 400, 10)]
    rows += [{"epoch": 400 + 10 * i, "train_acc": 1.0, "ood_acc": v}
             for i, v in enumerate([1e308, math.inf, -math.inf, 1e308, math.nan] * 3)]
    det = analyze(rows)
    assert det.target_metric == "ood_acc" and not det.grokked
    assert det.skipped == 12  # NaN is a missing value, not a skipped one
    epochs = [float(r["epoch"]) for r in rows]
    values = [float(r["ood_acc"]) for r in rows]
    assert fit_transition(epochs, values) is None or all(math.isfinite(v) for v in fit_transition(epochs, values))
    tracker = RiseTracker()
    for i, v in enumerate([0.1, 0.1, 1e308, -1e308, math.inf, 0.9, 0.9, 0.9]):
        tracker.update(float(i), v, memorized=True)
    tracker.verdict()  # no OverflowError from a level far outside [0, 1]


def test_tracker_log_of_an_overflowed_metric_is_written_not_raised(tmp_path: Path) -> None:
    with Tracker(task="custom", runs_dir=tmp_path, name="t") as tr:
        for e in range(0, 100, 10):
            tr.log(epoch=e, train_acc=1.0, val_acc=0.1)
        tr.log(epoch=100, train_acc=1.0, val_acc=1e308)
        tr.log(epoch=110, train_acc=1.0, val_acc=math.inf)
        tr.log(epoch=120, train_acc=1.0, val_acc=10 ** 400)  # an integer no float holds
    lines = (tr.run_dir / "results" / "history.jsonl").read_text().splitlines()
    assert json.loads(lines[-3])["val_acc"] == 1e308 and json.loads(lines[-2])["val_acc"] is None
    assert json.loads(lines[-1])["val_acc"] == 10 ** 400
    state = json.loads((tr.run_dir / "run.json").read_text())
    assert state["status"] == "finished"
    assert tr.detector.result.skipped == 3  # seen as logged; the file holds null for inf (strict JSON)


def test_export_ls_and_watch_survive_overflowed_values(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    root = overflowed_runs(runs)
    res = invoke("export-figures", "--runs-dir", str(runs), "--out", str(tmp_path / "fig"), "--format", "png")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "fig" / "manifest.json").read_text())
    assert "0 runs left out" in res.output and any(p.suffix == ".png" for p in (tmp_path / "fig").iterdir())
    run = load_run_data(RunPaths(root))
    assert any("not finite or too large" in n and "skipped by detection" in n for n in run.notes)
    assert manifest  # written
    res = invoke("ls", "--runs-dir", str(runs))
    assert res.exit_code == 0 and PLAIN in res.output and "-inf" in res.output
    res = invoke("show", PLAIN, "--runs-dir", str(runs))
    assert res.exit_code == 0 and "-inf" in res.output and "nan" in res.output
    _watch_draws(runs, root)


def _watch_draws(runs: Path, root: Path) -> None:
    """The watch console's model reads, detects and draws the runs (single and grouped views)."""
    w = Watcher(runs)
    w.start()
    w.poll()
    for spec in (ViewSpec(selected=PLAIN, marked=(OTHER,)), ViewSpec(marked=(PLAIN, OTHER), grouped=True),
                 ViewSpec(selected=PLAIN, log_y=True, smoothing=0.6)):
        data = build_plot_data(w, spec)
        assert data.panels
        for panel in data.panels:
            for line in panel.lines:
                assert all(math.isfinite(y) and abs(y) < 1e15 for y in line.ys)
    watched = w.get(PLAIN)
    assert watched is not None and "skipped by detection" in (watched.error or "")


def test_a_deeply_nested_line_is_named_and_skipped(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        loads(DEEP)
    runs = tmp_path / "runs"
    root = make_run(runs, PLAIN, grok_at=None, summary=False, rows=20)
    lines = (root / "results" / "history.jsonl").read_text().splitlines()
    lines.insert(10, DEEP)
    (root / "results" / "history.jsonl").write_text("\n".join(lines) + "\n")
    parsed = parse_jsonl_chunk((root / "results" / "history.jsonl").read_bytes())
    assert len(parsed.rows) == 20 and parsed.bad_at == [11]
    run = load_run_data(RunPaths(root))
    assert len(run.epochs) == 20 and "results/history.jsonl: skipped line 11 (not a JSON object)" in run.notes
    res = invoke("export-figures", "--runs-dir", str(runs), "--out", str(tmp_path / "fig"), "--format", "png")
    assert res.exit_code == 0 and "0 runs left out" in res.output, res.output
    w = Watcher(runs)
    w.start()
    w.poll()
    assert build_plot_data(w, ViewSpec(selected=PLAIN)).panels
    append_lines(root, [DEEP])  # as the last line, with no summary: the listing shows the row before it
    rec = load_run(RunPaths(root))
    assert rec.last_row["epoch"] == 190 and "the last line is not a JSON object" in (rec.error or "")


BIG = "x" * 50_000_000


@pytest.mark.parametrize(("last", "shown"), [("{bad", 400), ('{"epoch": 999, "pad": "' + BIG + '"', 400),
                                             ('{"epoch": 999, "pad": "' + BIG + '"}', 999)],
                         ids=["junk", "50MB-junk", "50MB-row"])
def test_a_bad_or_huge_last_line_keeps_the_rows_before_it(tmp_path: Path, last: str, shown: int) -> None:
    runs = tmp_path / "runs"
    root = make_run(runs, PLAIN, summary=False)
    append_lines(root, [last])
    rec = load_run(RunPaths(root))
    assert rec.last_row["epoch"] == shown
    assert ("the last line is not a JSON object" in (rec.error or "")) == (shown == 400)
    res = invoke("ls", "--runs-dir", str(runs))
    assert res.exit_code == 0 and str(shown) in res.output
    res = invoke("show", PLAIN, "--runs-dir", str(runs))
    assert res.exit_code == 0 and str(shown) in res.output


def test_overflowed_numbers_fit_a_table_cell() -> None:
    from grokconsole.views.formatting import fmt_acc, fmt_num

    for value, shown in ((1e308, "1e+308"), (math.inf, "inf"), (-math.inf, "-inf"), (0.5, "0.500")):
        assert fmt_acc(value) == shown and fmt_num(value) == shown
    assert fmt_num(10 ** 400) == ">1e308" and fmt_acc(10 ** 400) == "—"
    assert fmt_num(12) == "12" and fmt_acc(math.nan) == "—"

"""`--sweep NAME` selects a sweep's runs in grok ls, grok watch and grok export-figures."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from tests.conftest import write_finished_run

runner = CliRunner()
ROWS = [{"epoch": e, "step": e, "train_acc": min(1.0, e / 50), "val_acc": min(1.0, e / 100), "train_loss": 1.0,
         "val_loss": 1.0} for e in range(0, 201, 10)]


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    for seed in (0, 1):
        write_finished_run(folder, f"20260101-00000{seed}-sw-seed={seed}", ROWS,
                           {"seed": seed, "sweep": "sw", "sweep_point": {"seed": seed}})
    write_finished_run(folder, "20260101-000009-other", ROWS)
    return folder


def test_ls_selects_the_sweep(runs: Path) -> None:
    res = runner.invoke(app, ["ls", "--runs-dir", str(runs), "--sweep", "sw"])
    assert res.exit_code == 0 and "2 runs" in res.output and "other" not in res.output
    bad = runner.invoke(app, ["ls", "--runs-dir", str(runs), "--sweep", "nope"])
    assert bad.exit_code == 2 and "no sweep 'nope'" in bad.output


def test_watch_gets_the_sweeps_runs(runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grokconsole.tui import app as tui_app

    apps: list = []
    monkeypatch.setattr(tui_app.WatchApp, "run", lambda self: apps.append(self))
    res = runner.invoke(app, ["watch", "--runs-dir", str(runs), "--sweep", "sw"])
    assert res.exit_code == 0, res.output
    assert sorted(apps[0].watcher.start() and apps[0].watcher.runs) == ["20260101-000000-sw-seed=0",
                                                                         "20260101-000001-sw-seed=1"]


def test_export_figures_uses_only_the_sweep(runs: Path, tmp_path: Path) -> None:
    import json

    out = tmp_path / "figs"
    res = runner.invoke(app, ["export-figures", "--runs-dir", str(runs), "--sweep", "sw", "--out", str(out),
                              "--format", "png", "--no-per-run", "-j", "1", "--dpi", "40"])
    assert res.exit_code == 0, res.output
    assert "2 runs used" in " ".join(res.output.split())
    manifest = json.loads((out / "manifest.json").read_text())
    assert "other" not in json.dumps(manifest.get("runs", manifest))

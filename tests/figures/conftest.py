"""Run folders for the export-figures tests, built by the tests themselves."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.figures.synth import curve_rows, write_legacy_run, write_native_run

ROOT = Path(__file__).resolve().parents[2]

# A tiny hand-made legacy history whose table-1 numbers are easy to compute by hand.
HANDMADE = [
    {"epoch": 0, "train_acc": 0.30, "id_val_acc": 0.10, "ood_acc": 0.05, "irm_mean": 1.00, "shortcut_ratio": 2.0},
    {"epoch": 10, "train_acc": 1.00, "id_val_acc": 0.20, "ood_acc": 0.10, "irm_mean": 0.90, "shortcut_ratio": 1.8},
    {"epoch": 20, "train_acc": 1.00, "id_val_acc": 0.90, "ood_acc": 0.60, "irm_mean": 0.30, "shortcut_ratio": 1.1},
    {"epoch": 30, "train_acc": 1.00, "id_val_acc": 0.95, "ood_acc": 0.80, "irm_mean": 0.25, "shortcut_ratio": 0.9},
    {"epoch": 40, "train_acc": 1.00, "id_val_acc": 0.97, "ood_acc": 0.70, "irm_mean": 0.20, "shortcut_ratio": 0.8},
]


def handmade_rows(shift: float = 0.0) -> list[dict[str, Any]]:
    """HANDMADE with ``id_val_acc`` and ``ood_acc`` shifted (a second seed), flagged from epoch 30."""
    rows = []
    for r in HANDMADE:
        row = dict(r)
        row["id_val_acc"] = round(r["id_val_acc"] + shift, 6)
        row["ood_acc"] = round(r["ood_acc"] + shift, 6)
        row["grokking_detected"] = r["epoch"] >= 30
        rows.append(row)
    return rows


def build_legacy(runs: Path) -> None:
    """The user's layout: grokking and standard at n=500 (with mechinterp), a run without config.json,
    two hand-made runs at n=200, and a malformed run."""
    for s in range(3):
        write_legacy_run(runs, f"20260505-10000{s}-grokking-n500-s{s}", curve_rows("grokking", s, val_key="id_val_acc"),
                         {"condition": "grokking", "n_train": 500, "seed": s}, flag_from=260 + 10 * s, mechinterp=True)
    for s in range(2):
        write_legacy_run(runs, f"20260505-11000{s}-standard-n500-s{s}", curve_rows("standard", s),
                         {"condition": "standard", "n_train": 500, "seed": s}, mechinterp=True)
    write_legacy_run(runs, "20260505-120000-grokking-n2000-s0", curve_rows("grokking", 0), None)
    for s, shift in ((0, 0.0), (1, 0.02)):
        root = runs / f"20260506-09000{s}-handmade-n200-s{s}"
        (root / "results").mkdir(parents=True)
        (root / "results" / "history.json").write_text(json.dumps(handmade_rows(shift)))
        (root / "config.json").write_text(json.dumps({"condition": "handmade", "n_train": 200, "seed": s}))
    broken = runs / "20260507-000000-broken-n500-s9"
    (broken / "results").mkdir(parents=True)
    (broken / "results" / "history.json").write_text('[{"epoch": 0, "val_acc": 0.1},')
    (broken / "config.json").write_text(json.dumps({"condition": "grokking", "n_train": 500, "seed": 9}))


def build_native(runs: Path) -> list[Path]:
    """Native runs written through the Tracker: val/train, weight norm, feature rank; no IRM, no shortcut."""
    return [write_native_run(runs, "grokking", 1000, s, shortcut=False, irm=False, ood=False, epochs=200)
            for s in range(2)]


@pytest.fixture(scope="session")
def mixed_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with legacy and native runs (never written to by exports: copy it first)."""
    runs = tmp_path_factory.mktemp("mixed") / "runs"
    runs.mkdir()
    build_legacy(runs)
    build_native(runs)
    return runs


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder holding one short real training run of the built-in modular-arithmetic task."""
    runs = tmp_path_factory.mktemp("trained") / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "grokconsole", "run", "--task", "modarith", "--epochs", "30", "--set", "eval_every=10",
         "--n-train", "1000", "--set", "threads=1", "--runs-dir", str(runs), "--follow"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return runs

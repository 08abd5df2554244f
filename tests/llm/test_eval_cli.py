"""``grok eval`` for language models, end to end: the untuned model (``--base-model``) and a baseadd run,
their result files, ``--shots``/``--icl-cot`` adding slices, bad requests, and the figures they feed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from grokconsole.cli import app
from grokconsole.runs.base_models import base_eval_folder
from grokconsole.runs.evalfiles import load_suite_tables
from grokconsole.runs.samples import read_samples
from grokconsole.tasks.baseadd.results import read_base_eval, read_results

ROOT = Path(__file__).resolve().parents[2]
cli = CliRunner()


@pytest.fixture(autouse=True)
def _child_finds_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def grok(*args: str) -> Any:
    return cli.invoke(app, list(args), catch_exceptions=False)


def files(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*")) if folder.exists() else []


def test_icl_on_the_untuned_model_end_to_end(tiny_llama_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    res = grok("eval", "--base-model", str(tiny_llama_dir), "--suite", "icl", "--shots", "0,1", "--problems", "6",
               "--runs-dir", str(runs), "--follow")
    assert res.exit_code == 0, res.output
    folder = base_eval_folder(runs, tiny_llama_dir)
    info = json.loads((folder / "model.json").read_text())
    assert info == {"model": str(tiny_llama_dir.resolve()), "task": "baseadd", "model_path": str(tiny_llama_dir.resolve())}
    # more k, with CoT demonstrations: added to the same file, the first slices kept as they were
    first = json.loads((folder / "eval/by_checkpoint/step_0/icl.json").read_text())["results"]
    before = files(folder)  # 150 CoT demonstrations exceed the context: refused before a job starts
    res = grok("eval", "--base-model", str(tiny_llama_dir), "--suite", "icl", "--shots", "2,150", "--icl-cot",
               "--problems", "6", "--runs-dir", str(runs), "--follow")
    assert res.exit_code == 2 and "--shots 150: at most" in " ".join(res.output.split())
    assert files(folder) == before
    res = grok("eval", "--base-model", str(tiny_llama_dir), "--suite", "icl", "--shots", "2", "--icl-cot",
               "--problems", "6", "--runs-dir", str(runs), "--follow")
    assert res.exit_code == 0, res.output
    data = json.loads((folder / "eval/by_checkpoint/step_0/icl.json").read_text())
    assert (data["step"], data["epoch"], data["metric"]) == (0, 0, "accuracy")
    assert {k: v for k, v in data["results"].items() if k in first} == first
    assert sorted(data["results"]) == sorted([f"k{k}_b{b}_d2_plain" for k in (0, 1) for b in (8, 9, 10)]
                                             + [f"k2_b{b}_d2_cot" for b in (8, 9, 10)])
    res_read = read_base_eval(folder)
    assert len(res_read.icl[0]) == 9 and not res_read.problems
    progress = [json.loads(line) for line in (folder / "eval/progress.jsonl").read_text().splitlines()]
    assert [e["prompts"] for e in progress if e["event"] == "checkpoint"] == [36, 18]
    # one sample per prompt, the first job's kept beside the second's: every value is their mean
    samples = read_samples(folder / "eval/by_checkpoint/step_0/icl.samples.jsonl.gz")
    assert len(samples) == 9 * 6 and [r["slice"] for r in samples[::6]] == list(data["results"])
    for name, rec in data["results"].items():
        mine = [r["correct"] for r in samples if r["slice"] == name]
        assert rec["value"] == pytest.approx(sum(mine) / len(mine)) and rec["n"] == len(mine)
        assert rec["ci95"][0] <= rec["value"] <= rec["ci95"][1]
    assert load_suite_tables(folder / "eval")["icl"].slices == list(data["results"])  # the log is no result
    shown = grok("eval", "--base-model", str(tiny_llama_dir), "--samples", "k1_*", "--runs-dir", str(runs))
    assert shown.exit_code == 0, shown.output
    wrong = sum(not r["correct"] for r in samples if r["slice"].startswith("k1_"))
    assert shown.output.count("✗") == wrong and shown.output.count("✓") == 18 - wrong
    assert "k0_" not in shown.output and f"{18 - wrong} of 18 right" in shown.output
    only = grok("eval", "--base-model", str(tiny_llama_dir), "--samples", "--wrong", "--runs-dir", str(runs))
    assert only.exit_code == 0 and "✓" not in only.output
    assert only.output.count("✗") == sum(not r["correct"] for r in samples)
    none = grok("eval", "--base-model", str(tiny_llama_dir), "--samples", "k9_*", "--runs-dir", str(runs))
    assert none.exit_code == 2 and "no slice of icl at step 0 matches k9_*" in none.output
    status = grok("eval", "--base-model", str(tiny_llama_dir), "--status", "--runs-dir", str(runs))
    assert "finished" in status.output and "evaluated steps: 0" in status.output


@pytest.mark.parametrize("args, message", [
    (["--base-model", "{missing}"], "no such folder"),
    (["--base-model", "{tmp}"], "not a Hugging Face model folder"),
    (["--base-model", "{model}", "--shots", "1,x"], "bad --shots"),
    (["--base-model", "{model}", "--shots", "-1,2"], "bad --shots"),
    (["--base-model", "{model}", "--problems", "0"], "--problems must be at least 1"),
    (["--base-model", "{model}", "--icl-demos", "some"], "bad --icl-demos"),
    (["--base-model", "{model}", "--checkpoints", "last"], "--base-model evaluates the untuned model"),
    (["--base-model", "{model}", "--task", "modarith"], "--base-model needs a language-model task"),
    (["--base-model", "{model}", "--suite", "operand_acc"], "unknown suite"),
    (["--base-model", "{model}", "--out", "{busy}"], "holds other files"),
    ([], "name a run to evaluate"),
])
def test_bad_requests_exit_2_and_create_nothing(tiny_llama_dir: Path, tmp_path: Path, args: list[str],
                                                message: str) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    subs = {"{missing}": str(tmp_path / "nope"), "{tmp}": str(busy), "{model}": str(tiny_llama_dir),
            "{busy}": str(busy)}
    runs = tmp_path / "runs"
    before = files(tmp_path)
    res = grok("eval", *[subs.get(a, a) for a in args], "--runs-dir", str(runs))
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split())
    assert files(tmp_path) == before


def test_generation_options_on_a_task_without_generation(tmp_path: Path) -> None:
    from tests.evals.toy import make_tiny_modarith_run

    make_tiny_modarith_run(tmp_path)
    res = grok("eval", "tiny", "--shots", "0,1", "--runs-dir", str(tmp_path))
    assert res.exit_code == 2 and "are for language-model tasks" in res.output


def test_baseadd_run_eval_and_figures(tiny_llama_dir: Path, tmp_path: Path) -> None:
    """grok run --task baseadd → grok eval (accuracy, icl) → grok export-figures (δ and k-shot)."""
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "grokconsole", "run", "--task", "baseadd", "--condition", "standard", "--epochs", "2",
         "--set", f"model_path={tiny_llama_dir}", "--set", "n_train=32", "--set", "n_val=8",
         "--set", "eval_size=4", "--set", "train_eval_size=4", "--set", "batch_size=16", "--set", "eval_every=1",
         "--set", "lora_r=2", "--runs-dir", str(runs), "--follow"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run_dir = next(p for p in runs.iterdir() if "baseadd" in p.name)
    res = grok("eval", run_dir.name, "--checkpoints", "last", "--suite", "accuracy", "--suite", "icl",
               "--shots", "0,1,2,3", "--problems", "4", "--runs-dir", str(runs), "--follow")
    assert res.exit_code == 0, res.output
    results = read_results(run_dir, run_dir.name, "run", "x")
    step = results.last_accuracy_step()
    assert step is not None and len(results.accuracy[step]) == 9 and len(results.icl[step]) == 12
    assert {c.n for c in results.accuracy[step].values()} == {4}
    res = grok("eval", "--base-model", str(tiny_llama_dir), "--suite", "accuracy", "--problems", "4",
               "--runs-dir", str(runs), "--follow")
    assert res.exit_code == 0, res.output
    out = tmp_path / "figs"
    res = grok("export-figures", "--runs-dir", str(runs), "--out", str(out), "--format", "png", "--dpi", "30",
               "--no-per-run", "--jobs", "1")
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    status = {f["name"]: f["status"] for f in manifest["figures"]}
    assert status["figure_delta_by_base"] == status["figure_delta_by_digits"] == "written"
    assert status["table_delta_accuracy"] == status["figure_kshot_icl"] == "written"
    rows = (out / "table_delta_accuracy.csv").read_text().splitlines()
    assert len(rows) == 1 + 9 and all(f"base model {base_eval_folder(runs, tiny_llama_dir).name}" in r for r in rows[1:])

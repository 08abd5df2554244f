"""Counting in optimizer steps: max_steps, evaluation/checkpoints every N steps, exact resume
inside an epoch, and gradient accumulation (2 × half batch = one full-batch step)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from grokconsole.runs.errors import GrokError
from grokconsole.runs.history import read_jsonl
from grokconsole.tasks.config import resolve_config
from grokconsole.launch.process import new_run_folder
from grokconsole.train import checkpoint as ckpt
from grokconsole.train.cadence import Cadence
from grokconsole.train.loop import train

TINY = ["p=23", "n_train=200", "d_embed=32", "d_hidden=64", "eval_every=1", "epochs=30", "batch_size=64"]


def run(tmp: Path, name: str, sets: list[str]) -> Path:
    cfg = resolve_config("modarith", "grokking", explicit={"seed": 3, "device": "cpu"}, sets=sets)
    paths = new_run_folder(cfg, tmp, name, None)
    assert train(paths.root) == 0
    return paths.root


def rows(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time"} for r in read_jsonl(run_dir / "results" / "history.jsonl").rows]


def test_cadence_epochs_unchanged_and_steps() -> None:
    base = {"epochs": 10, "eval_every": 5, "checkpoint_every": 0}
    by_epochs = Cadence.from_config(base, batches_per_epoch=4)
    assert not by_epochs.by_steps and by_epochs.total_steps == 40 and by_epochs.checkpoint_every == 5
    assert [e for e in range(1, 11) if by_epochs.eval_after_epoch(e)] == [5, 10]
    assert not by_epochs.finished(9, 36, 0) and by_epochs.finished(10, 40, 0)
    steps = Cadence.from_config({**base, "max_steps": 9, "eval_every_steps": 4, "grad_accum_steps": 3},
                                batches_per_epoch=4)
    assert steps.by_steps and steps.steps_per_epoch == 2 and steps.total_steps == 9
    assert [s for s in range(1, 10) if steps.eval_after_step(s)] == [4, 8, 9]
    assert steps.checkpoint_every_steps == 4 and not steps.eval_after_epoch(10)
    assert steps.finished(5, 9, 3) and not steps.finished(50, 8, 0)  # max_steps wins over epochs
    assert steps.epoch_value(3, 0) == 3 and steps.epoch_value(3, 1) == 2.25


def test_max_steps_and_eval_every_steps(tmp_path: Path) -> None:
    # 200 pairs in batches of 64: 4 batches per epoch.
    r = run(tmp_path, "s", [*TINY, "max_steps=7", "eval_every_steps=3"])
    got = rows(r)
    assert [(row["step"], row["epoch"]) for row in got] == [(0, 0), (3, 0.75), (6, 1.5), (7, 1.75)]
    kept = sorted(s for s, _ in ckpt.periodic_checkpoints(r / "checkpoints"))
    assert kept == [3, 6, 7]
    latest = ckpt.load(r / "checkpoints" / "latest.pt")
    assert (latest["step"], latest["epoch"], latest["batch_in_epoch"]) == (7, 2, 3)


def test_max_steps_with_epoch_evaluations(tmp_path: Path) -> None:
    got = rows(run(tmp_path, "e", [*TINY, "max_steps=10", "eval_every=2"]))
    assert [(row["step"], row["epoch"]) for row in got] == [(0, 0), (8, 2), (10, 2.5)]


def test_resume_inside_an_epoch_gives_the_same_history(tmp_path: Path) -> None:
    sets = [*TINY, "max_steps=14", "eval_every_steps=3", "checkpoint_every_steps=3", "grad_accum_steps=2"]
    ref = run(tmp_path, "ref", sets)
    want = rows(ref)
    state = ckpt.load(ref / "checkpoints" / "step_9.pt")
    assert state["batch_in_epoch"] == 2  # 2 optimizer steps (4 batches) per epoch: step 9 is inside epoch 5
    shutil.copy(ref / "checkpoints" / "step_9.pt", ref / "checkpoints" / "latest.pt")
    assert train(ref, resume=True) == 0
    assert rows(ref) == want


def test_gradient_accumulation_equals_one_full_batch_step(tmp_path: Path) -> None:
    common = ["p=23", "n_train=200", "d_embed=32", "d_hidden=64", "epochs=3", "eval_every=1",
              "weight_decay=0.5", "lr=0.01"]
    full = run(tmp_path, "full", [*common, "batch_size=0"])
    accum = run(tmp_path, "accum", [*common, "batch_size=100", "grad_accum_steps=2"])
    a = ckpt.load(full / "checkpoints" / "latest.pt")["model"]
    b = ckpt.load(accum / "checkpoints" / "latest.pt")["model"]
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=2e-5, rtol=1e-4)
    ra, rb = rows(full), rows(accum)
    assert [r["step"] for r in ra] == [r["step"] for r in rb] == [0, 1, 2, 3]
    assert rb[-1]["val_loss"] == pytest.approx(ra[-1]["val_loss"], rel=1e-4)
    # One half batch per step is a different optimisation: the check above can fail.
    half = ckpt.load(run(tmp_path, "half", [*common, "batch_size=100"]) / "checkpoints" / "latest.pt")["model"]
    assert any(not torch.allclose(a[k], half[k], atol=2e-5, rtol=1e-4) for k in a)


@pytest.mark.parametrize("sets,match", [
    (["grad_accum_steps=0"], "grad_accum_steps"),
    (["max_steps=-1"], "max_steps"),
    (["eval_every_steps=-5"], "eval_every_steps"),
])
def test_bad_step_settings(sets: list[str], match: str) -> None:
    with pytest.raises(GrokError, match=match):
        resolve_config("modarith", "grokking", sets=sets)

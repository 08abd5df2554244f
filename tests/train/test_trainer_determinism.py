"""Same seed, same history on CPU — also across a resume from a checkpoint (speed-ups must keep both)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grokconsole.runs.history import read_jsonl
from grokconsole.tasks.config import resolve_config
from grokconsole.launch.process import new_run_folder
from grokconsole.train.loop import train

TINY_MLP = ["p=23", "n_train=200", "d_embed=32", "d_hidden=64", "eval_every=5", "epochs=30", "checkpoint_every=10",
            "threads=1"]
# The grokfast code paths (decoder arch, shared prefix, minibatches, warmup from 0, EMA filter,
# running train metrics, Adam, the preset's precision) at toy size, eagerly: the compiled forward
# has its own tests (test_compiled.py), which share their compilations.
TINY_GROKFAST = ["p=11", "n_train=55", "d_model=16", "n_heads=2", "d_mlp=32", "batch_size=16", "epochs=6", "lr=0.01",
                 "checkpoint_every=2", "compile=false", "threads=1"]


def run(tmp: Path, name: str, sets: list[str], preset: str | None = None) -> Path:
    cfg = resolve_config("modarith", "grokking", preset=preset, explicit={"seed": 3, "device": "cpu"}, sets=sets)
    paths = new_run_folder(cfg, tmp, name, None)
    assert train(paths.root) == 0
    return paths.root


def rows(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time"} for r in read_jsonl(run_dir / "results" / "history.jsonl").rows]


@pytest.mark.parametrize("sets,preset", [(TINY_MLP, None), (TINY_GROKFAST, "grokfast")], ids=["mlp", "grokfast"])
def test_same_seed_same_history(tmp_path: Path, sets: list[str], preset: str | None) -> None:
    a = rows(run(tmp_path, "a", sets, preset))
    b = rows(run(tmp_path, "b", sets, preset))
    assert len(a) > 3 and a == b
    assert a[-1]["train_loss"] < a[0]["train_loss"]  # it trained
    other = rows(run(tmp_path, "c", [*sets, "seed=4"], preset))
    assert other != a  # the seed matters


@pytest.mark.parametrize("sets,preset,at", [(TINY_MLP, None, 10), (TINY_GROKFAST, "grokfast", 2)],
                         ids=["mlp", "grokfast"])
def test_resume_from_checkpoint_gives_the_same_history(tmp_path: Path, sets: list[str], preset: str | None,
                                                       at: int) -> None:
    ref = run(tmp_path, "ref", sets, preset)
    want = rows(ref)
    # Pretend the run died right after its first periodic checkpoint: latest.pt is that one.
    ckpts = ref / "checkpoints"
    step = next(r["step"] for r in want if r["epoch"] == at)
    shutil.copy(ckpts / f"step_{step}.pt", ckpts / "latest.pt")
    assert train(ref, resume=True) == 0
    assert rows(ref) == want

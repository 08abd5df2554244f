"""A damaged ``latest.pt`` never breaks a resume: the trainer starts from the newest intact checkpoint and says so."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from grokconsole.runs.checkpoint_files import damage, newest_intact
from grokconsole.runs.history import read_jsonl
from grokconsole.runs.lifecycle import read_run_state
from grokconsole.train.loop import train
from tests.train.test_trainer_determinism import TINY_MLP, rows, run


def _damaged(kind: str, intact: bytes) -> bytes:
    return {"empty": b"", "truncated": intact[: len(intact) // 2], "random": os.urandom(len(intact))}[kind]


def test_damage_names_each_kind_and_passes_an_intact_file(tmp_path: Path) -> None:
    good = tmp_path / "good.pt"
    torch.save({"model": {"w": torch.ones(3)}, "step": 1}, good)
    assert damage(good) is None
    for kind in ("empty", "truncated", "random"):
        bad = tmp_path / f"{kind}.pt"
        bad.write_bytes(_damaged(kind, good.read_bytes()))
        assert damage(bad), kind


@pytest.mark.parametrize("kind", ["empty", "truncated", "random"])
def test_resume_falls_back_to_the_newest_intact_checkpoint(tmp_path: Path, kind: str) -> None:
    ref = run(tmp_path, "ref", TINY_MLP)
    want = rows(ref)
    ckpts = ref / "checkpoints"
    # Keep only the first periodic checkpoint (epoch 10); latest.pt is damaged.
    first = next(r["step"] for r in want if r["epoch"] == 10)
    for step_file in ckpts.glob("step_*.pt"):
        if step_file.name != f"step_{first}.pt":
            step_file.unlink()
    latest = ckpts / "latest.pt"
    latest.write_bytes(_damaged(kind, latest.read_bytes()))
    point = newest_intact(ckpts)
    assert point is not None and point.path.name == f"step_{first}.pt" and point.skipped[0][0] == "latest.pt"

    assert train(ref, resume=True) == 0
    assert rows(ref) == want  # the same history as the uninterrupted run
    state = read_run_state(ref)
    assert state.status == "finished"
    events = read_jsonl(ref / "results" / "events.jsonl").rows
    fallback = [e for e in events if e["event"] == "checkpoint_fallback"]
    assert len(fallback) == 1 and fallback[0]["used"] == f"step_{first}.pt" and fallback[0]["skipped"] == ["latest.pt"]
    assert fallback[0]["epoch"] == 10
    assert damage(latest) is None  # rewritten by the resumed run


def test_resume_without_any_checkpoint_starts_from_step_0(tmp_path: Path) -> None:
    ref = run(tmp_path, "ref", TINY_MLP)
    want = rows(ref)
    shutil.rmtree(ref / "checkpoints")
    (ref / "checkpoints").mkdir()
    assert train(ref, resume=True) == 0
    assert rows(ref) == want  # rows of the first attempt were dropped, not duplicated
    resume = [e for e in read_jsonl(ref / "results" / "events.jsonl").rows if e["event"] == "resume"]
    assert resume[-1]["step"] == 0 and resume[-1]["from_start"] is True

"""End-to-end `grok run --task procedural` with the built-in model: expert iteration (gold files,
verified and deduplicated; kill -9 + resume giving the same history and gold), SFT on the ground
truth, and bad input refused before anything is created."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from grokconsole.runs.history import read_jsonl
from grokconsole.runs.lifecycle import read_run_state
from tests.conftest import wait_for_end
from tests.e2e.test_run_lifecycle import grok, launch, strip_time, wait_rows

pytestmark = pytest.mark.e2e
# One-operator problems: the task's built-in model (pre-trained on easy problems of its kinds) solves
# many of them by sampling, so expert iteration has gold from the first iteration on.
SMALL = ("n_train=24 n_val=8 n_test=8 train_eval_size=8 steps_per_iteration=3 batch_size=8 samples_per_problem=3 "
         "test_every=2 checkpoint_every=1 max_new_tokens=6 threads=1")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _gold(run: Path) -> dict[str, list[dict]]:
    return {p.name: _lines(p) for p in sorted((run / "data" / "gold").glob("iter_*.jsonl"))}


def test_expert_iteration_gold_and_exact_resume_after_kill_9(tmp_path: Path) -> None:
    args = ("--task", "procedural", "--set", SMALL, "--epochs", "8", "--set",
            "method=expert_iteration problem_types=arithmetic,parentheses difficulty_range=1,1 "
            "detect_method=window detect_jump_window=2")
    reference = launch(tmp_path / "a", *args, "--name", "reference")
    victim = launch(tmp_path / "b", *args, "--name", "victim")
    wait_rows(victim, 2, timeout=300)  # iteration 2 evaluated (its checkpoint follows at once)
    os.kill(read_run_state(victim).pid, signal.SIGKILL)
    assert wait_for_end(victim, timeout=30) == "crashed"
    assert wait_for_end(reference, timeout=300) == "finished", (reference / "logs" / "stderr.log").read_text()[-2000:]
    res = grok("run", "--resume", victim.name, "--runs-dir", str(tmp_path / "b"), "--follow", timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    want = strip_time(read_jsonl(reference / "results" / "history.jsonl").rows)
    assert strip_time(read_jsonl(victim / "results" / "history.jsonl").rows) == want
    assert _gold(victim) == _gold(reference)

    assert [r["iteration"] for r in want] == list(range(9)) and [r["step"] for r in want] == [3 * i for i in range(9)]
    assert all(("test_acc" in r) == (r["iteration"] % 2 == 0) for r in want)
    for r in want[1:]:
        assert {"train_acc", "val_acc", "gold_count", "sample_acc", "generalization_gap", "val_acc_arithmetic",
                "val_acc_parentheses"} <= set(r)
        assert r["generalization_gap"] == pytest.approx(r["train_acc"] - r["val_acc"])
    assert any(r["gold_count"] > 0 and "loss" in r for r in want[1:])
    train = {r["prompt"]: r for r in _lines(reference / "data" / "train.jsonl")}
    first = next(iter(train.values()))
    assert len(train) == 24 and {"prompt", "answer", "type", "difficulty", "expression"} == set(first)
    gold = _gold(reference)
    assert sorted(gold) == sorted(f"iter_{i}.jsonl" for i in range(1, 9))
    for name, rows in gold.items():
        assert [r["gold_count"] for r in want if r["iteration"] == int(name[5:-6])] == [len(rows)]
        assert len({(g["prompt"], g["completion"]) for g in rows}) == len(rows)  # deduplicated
        for g in rows:
            assert set(g) == {"prompt", "completion", "answer"}
            assert g["completion"].strip() == g["answer"] == train[g["prompt"]]["answer"]
    summary = json.loads((reference / "results" / "summary.json").read_text())
    assert summary["method"] == "expert_iteration" and set(summary["detectors"]) == {"default", "window"}
    assert summary["gold_total"] == sum(len(rows) for rows in gold.values())
    assert 0.0 <= summary["final_test_acc"] <= 1.0

    # The kept adapter, loaded by peft alone on the base model resized to the saved tokenizer,
    # generates as the run's model did (the added tokens' embeddings travel with it).
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from grokconsole.llm.generate import generate

    folder = reference / "checkpoints" / "step_24"
    tok = AutoTokenizer.from_pretrained(folder)
    base = AutoModelForCausalLM.from_pretrained(json.loads((folder / "adapter_config.json").read_text())
                                                ["base_model_name_or_path"])
    base.resize_token_embeddings(len(tok))
    model = PeftModel.from_pretrained(base, folder).eval()
    tok.padding_side = "left"
    val = _lines(reference / "data" / "val.jsonl")
    texts = generate(model, tok, [r["prompt"] for r in val], max_new_tokens=6)
    assert sum(t.strip() == r["answer"] for t, r in zip(texts, val)) / len(val) == pytest.approx(want[-1]["val_acc"])


def test_sft_trains_on_the_ground_truth(tmp_path: Path) -> None:
    run = launch(tmp_path, "--task", "procedural", "--condition", "standard", "--epochs", "3", "--set", SMALL,
                 "--set", "method=sft difficulty_range=1,2")
    assert wait_for_end(run, timeout=300) == "finished", (run / "logs" / "stderr.log").read_text()[-2000:]
    rows = read_jsonl(run / "results" / "history.jsonl").rows
    assert [r["step"] for r in rows] == [0, 3, 6, 9]
    assert all(r["gold_count"] == 24 and "sample_acc" not in r for r in rows[1:])
    assert rows[-1]["loss"] < rows[1]["loss"]
    assert not (run / "data" / "gold").exists()
    types = {r["type"] for r in _lines(run / "data" / "train.jsonl")}
    assert types == {"arithmetic", "rpn", "parentheses"}
    summary = json.loads((run / "results" / "summary.json").read_text())
    assert summary["method"] == "sft" and summary["gold_total"] == 72 and "detectors" not in summary


@pytest.mark.parametrize("sets, message", [
    ("problem_types=sudoku", "unknown problem type"),
    ("problem_types=", "problem_types is empty"),
    ("difficulty_range=5,2", "inverted"),
    ("difficulty_range=0,20", "out of bounds"),
    ("n_test=0", "n_test must be"),
])
def test_bad_input_exits_2_and_creates_nothing(tmp_path: Path, sets: str, message: str) -> None:
    runs = tmp_path / "runs"
    res = grok("run", "--task", "procedural", "--set", sets, "--runs-dir", str(runs))
    assert res.returncode == 2 and message in res.stderr and res.stderr.strip().count("\n") == 0, res.stderr
    assert not runs.exists()

"""The eval job in-process: real modarith checkpoints, skip/force, and M4/M5 on a toy image task."""
from __future__ import annotations

import pytest

from grokconsole.runs.history import load_history
from grokconsole.evals.request import CheckpointSpec, EvalRequest, parse_checkpoints
from grokconsole.runs.evalfiles import EvalPaths, load_suite_tables
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.folder import RunPaths
from grokconsole.evals import checkpoints, split_evaluator
from grokconsole.evals.runner import evaluate_run
from tests.evals.toy import ToyNet, ToyTask, make_tiny_modarith_run, write_toy_run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> RunPaths:
    return make_tiny_modarith_run(tmp_path_factory.mktemp("runs"))


def _progress(ep: EvalPaths) -> list[dict]:
    from grokconsole.runs.history import read_jsonl

    return read_jsonl(ep.progress).rows


def test_all_checkpoints_evaluated_and_consistent_with_training_history(tiny_run) -> None:
    req = EvalRequest(parse_checkpoints("all"), ("operand_acc", "operand_loss"))
    assert evaluate_run(tiny_run.root, req, log=lambda *_: None) == "finished"
    ep = EvalPaths(tiny_run)
    tables = load_suite_tables(ep.root)
    assert tables["operand_acc"].steps == [10, 20, 30, 40]
    history = {int(r["step"]): r for r in load_history(tiny_run)}
    acc, loss = tables["operand_acc"], tables["operand_loss"]
    for step in acc.steps:
        for split in ("train", "val"):
            names = [s for s in acc.slices if acc.domains[s] == split]
            n = sum(acc.counts[s] for s in names)
            assert n == (100 if split == "train" else 69)
            # the n-weighted mean over operand ranges is the split's accuracy/loss in the history
            mean_acc = sum(acc.values[step][s] * acc.counts[s] for s in names) / n
            mean_loss = sum(loss.values[step][s] * loss.counts[s] for s in names) / n
            assert mean_acc == pytest.approx(history[step][f"{split}_acc"], abs=1e-6)
            assert mean_loss == pytest.approx(history[step][f"{split}_loss"], rel=1e-4)
    data = read_json(ep.suite_file(20, "operand_acc"))
    assert data["step"] == 20 and data["epoch"] == 20 and data["direction"] == "higher"


def test_rerun_skips_and_force_rewrites(tiny_run) -> None:
    ep = EvalPaths(tiny_run)
    req = EvalRequest(parse_checkpoints("all"), ("operand_acc", "operand_loss"))
    evaluate_run(tiny_run.root, req, log=lambda *_: None)
    target = ep.suite_file(10, "operand_acc")
    target.write_text(target.read_text().replace('"step": 10', '"step": 10, "marker": 1'))
    evaluate_run(tiny_run.root, req, log=lambda *_: None)
    assert read_json(target).get("marker") == 1                      # skipped, left alone
    last = [e for e in _progress(ep) if e["event"] == "checkpoint"][-4:]
    assert all(e["skipped"] for e in last)
    force = EvalRequest(CheckpointSpec("steps", (10,)), ("operand_acc",), force=True)
    evaluate_run(tiny_run.root, force, log=lambda *_: None)
    assert "marker" not in read_json(target)                         # re-evaluated
    assert _progress(ep)[-2]["done"] == ["operand_acc"]


def test_last_and_missing_suite_file_only(tiny_run) -> None:
    ep = EvalPaths(tiny_run)
    evaluate_run(tiny_run.root, EvalRequest(parse_checkpoints("all"), ("operand_acc", "operand_loss")),
                 log=lambda *_: None)
    ep.suite_file(40, "operand_loss").unlink()
    evaluate_run(tiny_run.root, EvalRequest(parse_checkpoints("last"), ("operand_acc", "operand_loss")),
                 log=lambda *_: None)
    events = _progress(ep)
    assert events[-3]["steps"] == [40]
    assert events[-2]["done"] == ["operand_loss"]                    # only what was missing


def test_stop_flag_stops_between_checkpoints(tiny_run) -> None:
    class Stopped:
        set = True

    req = EvalRequest(parse_checkpoints("all"), ("operand_acc",), force=True)
    assert evaluate_run(tiny_run.root, req, Stopped(), log=lambda *_: None) == "stopped"


def test_request_round_trips_through_argv() -> None:
    req = EvalRequest(CheckpointSpec("steps", (10, 30)), ("env_acc",), ("m4", "m5"), (-1.5, 0.0, 2.0), 30, True, "cpu")
    assert EvalRequest.from_argv(req.to_argv()) == req
    assert EvalRequest(CheckpointSpec("all"), ("a",)).to_argv()[:2] == ["--checkpoints", "all"]
    from grokconsole.tasks.generation import GenerationOptions

    lm = EvalRequest(CheckpointSpec("last"), ("icl",), generation=GenerationOptions(7, (0, 3), "both", 5, 2))
    assert EvalRequest.from_argv(lm.to_argv()) == lm
    assert "--shots" not in req.to_argv()  # no generation options: none sent


@pytest.fixture()
def toy_run(tmp_path, monkeypatch) -> RunPaths:
    monkeypatch.setattr(split_evaluator, "make_task", lambda config, device: ToyTask(config, device))
    root = tmp_path / "toy"
    write_toy_run(root, {10: ToyNet(0.3, 1.0), 20: ToyNet(1.0, 0.1)})
    return RunPaths(root)


def test_interventions_on_a_toy_image_run(toy_run) -> None:
    req = EvalRequest(parse_checkpoints("all"), ("env_acc",), ("m4", "m5"), (-2.0, 0.0, 2.0))
    assert evaluate_run(toy_run.root, req, log=lambda *_: None) == "finished"
    ep = EvalPaths(toy_run)
    m4 = read_json(ep.m4)
    assert [r["epoch"] for r in m4] == [5, 10]                      # epochs from the checkpoints
    early, late = m4
    assert early["head_ood_acc_raw"] < 0.25 < 0.95 < early["head_ood_acc_ablated"]
    assert late["head_ood_acc_raw"] > 0.95
    m5 = read_json(ep.m5(10))                                        # the last checkpoint, by epoch
    assert m5["epoch"] == 10 and [r["alpha"] for r in m5["sweep"]] == [-2.0, 0.0, 2.0]
    assert m5["sweep"][1]["head_ood_acc"] == pytest.approx(late["head_ood_acc_raw"])
    acc = read_json(ep.suite_file(10, "env_acc"))["results"]
    assert acc["test/env1"]["value"] == pytest.approx(early["head_ood_acc_raw"])
    # a rerun skips everything; --steer-step picks another checkpoint for M5
    evaluate_run(toy_run.root, req, log=lambda *_: None)
    checkpoint_events = [e for e in _progress(ep) if e["event"] == "checkpoint"]
    assert [e["skipped"] for e in checkpoint_events[-2:]] == [True, True]
    steer = EvalRequest(parse_checkpoints("last"), (), ("m5",), (0.0,), steer_step=10)
    evaluate_run(toy_run.root, steer, log=lambda *_: None)
    assert read_json(ep.m5(5))["step"] == 10


def test_interventions_refused_for_modarith(tiny_run) -> None:
    with pytest.raises(RuntimeError, match="features. capability"):
        evaluate_run(tiny_run.root, EvalRequest(parse_checkpoints("last"), (), ("m4",)), log=lambda *_: None)


def test_latest_counts_when_newer_than_the_last_periodic_checkpoint(toy_run) -> None:
    from grokconsole.train import checkpoint as ckpt

    ckpt.save(toy_run.checkpoints / "latest.pt", {"model": ToyNet(1.0, 0.0).state_dict(), "epoch": 12, "step": 25})
    evaluate_run(toy_run.root, EvalRequest(parse_checkpoints("last"), ("env_acc",)), log=lambda *_: None)
    ep = EvalPaths(toy_run)
    assert [p.name for p in ep.by_checkpoint.iterdir()] == ["step_25"]
    assert read_json(ep.suite_file(25, "env_acc"))["epoch"] == 12
    evaluate_run(toy_run.root, EvalRequest(parse_checkpoints("all"), ("env_acc",)), log=lambda *_: None)
    assert sorted(p.name for p in ep.by_checkpoint.iterdir()) == ["step_10", "step_20", "step_25"]


def test_a_checkpoint_pruned_meanwhile_is_skipped(toy_run, monkeypatch) -> None:
    real_load = checkpoints.ckpt.load

    def load(path):
        if path.name == "step_10.pt":
            raise FileNotFoundError(path)
        return real_load(path)

    monkeypatch.setattr(checkpoints.ckpt, "load", load)
    assert evaluate_run(toy_run.root, EvalRequest(parse_checkpoints("all"), ("env_acc",)),
                        log=lambda *_: None) == "finished"
    events = [e for e in _progress(EvalPaths(toy_run)) if e["event"] == "checkpoint"]
    assert [(e["step"], e.get("missing", False), e["done"]) for e in events] == [
        (10, True, []), (20, False, ["env_acc"])]

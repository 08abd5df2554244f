"""Evaluating real (tiny) runs of the image tasks: suites agree with the training history, M4/M5 run."""
from __future__ import annotations

import pytest

from grokconsole.runs.history import load_history
from grokconsole.runs.evalfiles import EvalPaths
from grokconsole.evals.request import parse_checkpoints
from grokconsole.runs.jsonio import read_json
from grokconsole.runs.folder import RunPaths
from grokconsole.evals.runner import EvalRequest, evaluate_run
from tests.evals.toy import train_run
from tests.train.fake_camelyon import make_fake_camelyon


@pytest.fixture(scope="module")
def shortcut_run(tmp_path_factory) -> RunPaths:
    paths = train_run(tmp_path_factory.mktemp("runs"), "shortcut", {"n_train": 200, "epochs": 20},
                      ["eval_every=10", "checkpoint_every=10", "n_val=100", "n_ood=100", "hidden=32", "channels=8"])
    req = EvalRequest(parse_checkpoints("all"), ("env_acc", "env_conf"), ("m4", "m5"))
    assert evaluate_run(paths.root, req, log=lambda *_: None) == "finished"
    return paths


@pytest.fixture(scope="module")
def camelyon_run(tmp_path_factory) -> RunPaths:
    base = tmp_path_factory.mktemp("cam")
    data = make_fake_camelyon(base / "data")
    paths = train_run(base / "runs", "camelyon17", {"n_train": 12, "epochs": 2, "data_dir": str(data)},
                      ["eval_every=1", "checkpoint_every=1", "model=cnn", "batch_size=6", "n_eval=8", "hidden=16",
                       "channels=4"])
    req = EvalRequest(parse_checkpoints("all"), ("env_acc",), ("m4", "m5"), (-1.0, 0.0, 1.0))
    assert evaluate_run(paths.root, req, log=lambda *_: None) == "finished"
    return paths


def test_shortcut_suites_match_the_history(shortcut_run) -> None:
    ep = EvalPaths(shortcut_run)
    history = {int(r["step"]): r for r in load_history(shortcut_run)}
    for step in (10, 20):
        acc = read_json(ep.suite_file(step, "env_acc"))["results"]
        assert set(acc) == {"train/env0", "train/env1", "val/all", "ood/all"}
        assert acc["ood/all"]["value"] == pytest.approx(history[step]["ood_acc"], abs=1e-6)
        assert acc["val/all"]["value"] == pytest.approx(history[step]["val_acc"], abs=1e-6)
        assert acc["ood/all"]["n"] == 100 and acc["ood/all"]["domain"] == "ood"
        conf = read_json(ep.suite_file(step, "env_conf"))
        assert conf["metric"] == "confidence" and set(conf["results"]) == set(acc)


def test_shortcut_m4_and_m5(shortcut_run) -> None:
    ep = EvalPaths(shortcut_run)
    history = {int(r["step"]): r for r in load_history(shortcut_run)}
    m4 = read_json(ep.m4)
    assert [r["step"] for r in m4] == [10, 20]
    for row in m4:
        assert row["head_ood_acc_raw"] == pytest.approx(history[row["step"]]["ood_acc"], abs=1e-6)
        # the model reads the stain (OOD ≈ 0.1): removing its effect moves OOD accuracy up
        assert row["head_ood_acc_ablated"] > row["head_ood_acc_raw"] + 0.1
        assert row["probe_acc"] > 0.95
    m5 = read_json(ep.m5(20))
    assert [r["alpha"] for r in m5["sweep"]] == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    assert m5["sweep"][3]["head_ood_acc"] == pytest.approx(m4[-1]["head_ood_acc_raw"])


def test_camelyon17_hospitals_are_environments(camelyon_run) -> None:
    ep = EvalPaths(camelyon_run)
    history = {int(r["step"]): r for r in load_history(camelyon_run)}
    acc = read_json(ep.suite_file(4, "env_acc"))["results"]
    assert {k for k in acc if k.startswith("train/")} == {"train/env0", "train/env3", "train/env4"}
    assert acc["ood_val/env1"]["domain"] == "ood_val"
    assert acc["ood_val/env1"]["value"] == pytest.approx(history[4]["ood_acc"], abs=1e-6)
    m4 = read_json(ep.m4)
    assert [r["epoch"] for r in m4] == [1, 2]
    assert all(r["directions"] == 2 for r in m4)  # three training hospitals: two directions
    assert len(read_json(ep.m5(2))["sweep"]) == 3

"""Short runs of the shortcut task through the real trainer."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.train.shift_helpers import assert_finite_metrics, run_task


def test_erm_run_learns_the_shortcut_first(tmp_path: Path) -> None:
    rc, rows, summary = run_task(tmp_path, "shortcut", sets=["n_val=300 n_ood=300 eval_every=30"],
                                 n_train=300, epochs=60)
    assert rc == 0 and summary["status"] == "finished"
    assert [r["epoch"] for r in rows] == [0, 30, 60]
    for row in rows:
        assert_finite_metrics(row, n_envs=2)
    last = rows[-1]
    # The stain is learned first: training and ID accuracy up, OOD (stain reversed) down, border > centre.
    assert last["train_acc"] >= 0.9 and last["val_acc"] >= 0.75
    assert last["ood_acc"] < 0.5
    assert last["shortcut_ratio"] > 1.0 and last["border_conf"] > last["center_conf"]
    assert summary["memorization_epoch"] is None or summary["memorization_epoch"] <= 60
    assert not summary["grokked"]


def test_irm_objective_run(tmp_path: Path) -> None:
    rc, rows, summary = run_task(tmp_path, "shortcut", condition="standard",
                                 sets=["objective=irm irm_lambda=10 irm_anneal_steps=3",
                                       "n_val=64 n_ood=64 eval_every=4 batch_size=32 env_probs=0.9,0.8,0.7"],
                                 n_train=96, epochs=8)
    assert rc == 0 and len(rows) == 3
    for row in rows:
        assert_finite_metrics(row, n_envs=3)
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]


def test_resnet18_variant_runs(tmp_path: Path) -> None:
    rc, rows, _ = run_task(tmp_path, "shortcut", sets=["model=resnet18 n_val=16 n_ood=16 eval_every=1"],
                           n_train=16, epochs=1)
    assert rc == 0
    assert_finite_metrics(rows[-1], n_envs=2)


def test_bad_key_fails_at_config_time(tmp_path: Path) -> None:
    from grokconsole.runs.errors import GrokError

    with pytest.raises(GrokError, match="border"):
        run_task(tmp_path, "shortcut", sets=["border=8"])
    assert not (tmp_path / "runs").exists()


def test_image_models_expose_features_and_head(tmp_path: Path) -> None:
    from grokconsole.tasks._shift.image_models import ResNet18, SmallCNN, build_image_model

    x = torch.randn(2, 3, 96, 96)
    net = ResNet18()
    assert net.features(x).shape == (2, 512) and net.head.out_features == 2
    assert torch.allclose(net(x), net.head(net.features(x)))
    cnn = build_image_model("cnn", 16, hidden=32)
    assert isinstance(cnn, SmallCNN) and cnn.features(torch.randn(3, 3, 16, 16)).shape == (3, 32)

    # A local ImageNet-style checkpoint: the backbone loads, the 1000-class fc is left out.
    from torchvision.models import resnet18

    source = resnet18(weights=None, num_classes=1000)
    path = tmp_path / "r18.pt"
    torch.save(source.state_dict(), path)
    loaded = ResNet18(weights_path=path)
    assert torch.equal(loaded.body[0].weight, source.conv1.weight)
    assert loaded.head.out_features == 2
    torch.save({"nothing": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="no ResNet-18 backbone"):
        ResNet18(weights_path=tmp_path / "bad.pt")

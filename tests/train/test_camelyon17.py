"""The camelyon17 task on a tiny fake WILDS folder, through the real wilds loading code."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from tests.train.fake_camelyon import make_fake_camelyon
from tests.train.shift_helpers import assert_finite_metrics, run_task


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fake_camelyon(tmp_path_factory.mktemp("cam"), per_center=6)


def test_wilds_splits_of_the_fake_folder(fake_root: Path) -> None:
    from grokconsole.tasks.camelyon17.data import load_patches, open_dataset, split_indices, subsample

    ds = open_dataset(fake_root)
    sizes = {s: len(split_indices(ds, s)) for s in ("train", "id_val", "val", "test")}
    # centres 0, 3, 4: 4 train + 2 id_val each; centre 1 → val (OOD), centre 2 → test (OOD).
    assert sizes == {"train": 12, "id_val": 6, "val": 6, "test": 6}
    train = split_indices(ds, "train")
    a, b = subsample(train, 5, seed=7), subsample(train, 5, seed=7)
    assert list(a) == list(b) and len(set(a)) == 5 and list(subsample(train, 0, 7)) == list(train)
    patches = load_patches(ds, a)
    assert patches.x.shape == (5, 3, 96, 96) and str(patches.x.dtype) == "torch.uint8"
    assert set(patches.hospital.tolist()) <= {0, 3, 4}


def test_end_to_end_run(tmp_path: Path, fake_root: Path) -> None:
    rc, rows, summary = run_task(
        tmp_path, "camelyon17", data_dir=str(fake_root), n_train=12, epochs=2,
        sets=["model=cnn patch=8 hidden=16 batch_size=6 n_eval=12 objective=irm irm_anneal_steps=1 irm_lambda=5"])
    assert rc == 0, summary
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    for row in rows:
        assert_finite_metrics(row, n_envs=3)
    assert summary["n_test"] == 6 and 0.0 <= summary["ood_test_acc"] <= 1.0
    assert summary["ood_test_loss"] == summary["ood_test_loss"]  # not NaN


def test_malformed_folder_fails_the_run_with_a_clear_event(tmp_path: Path, fake_root: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(fake_root, broken)
    victim = next((broken / "camelyon17_v1.0" / "patches").rglob("*.png"))
    victim.unlink()
    rc, _, summary = run_task(tmp_path, "camelyon17", data_dir=str(broken), n_train=12, epochs=1,
                              sets=["model=cnn patch=8 hidden=16 n_eval=12"])
    assert rc == 1 and summary["status"] == "failed"
    events = [json.loads(line) for line in next((tmp_path / "runs").iterdir()).joinpath(
        "results", "events.jsonl").read_text().splitlines()]
    crash = [e for e in events if e.get("event") == "crash"]
    assert crash and victim.name in crash[0]["error"]


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(GrokError, match="missing camelyon17_v1.0"):
        run_task(tmp_path, "camelyon17", data_dir=str(tmp_path))
    assert not (tmp_path / "runs").exists()

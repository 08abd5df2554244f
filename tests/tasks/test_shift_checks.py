"""Config-time checks of the shortcut and camelyon17 tasks (pure Python, no torch)."""
from __future__ import annotations

from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.config import resolve_config, task_spec
from grokconsole.tasks._shift.spec import parse_probs
from grokconsole.tasks.camelyon17.checks import check_camelyon_folder


def test_specs_registered_with_their_metrics_keys() -> None:
    for name in ("shortcut", "camelyon17"):
        spec = task_spec(name)
        assert spec.package == f"grokconsole.tasks.{name}" and spec.validate is not None
    cfg = resolve_config("shortcut", "grokking")
    assert cfg["objective"] == "erm" and cfg["model"] == "cnn"
    assert resolve_config("shortcut", "standard")["weight_decay"] < cfg["weight_decay"]
    irm = resolve_config("shortcut", "grokking", sets=["objective=irm irm_lambda=50 irm_anneal_steps=20"])
    assert (irm["objective"], irm["irm_lambda"], irm["irm_anneal_steps"]) == ("irm", 50.0, 20)


@pytest.mark.parametrize("sets,match", [
    (["env_probs=0.9,x"], "env_probs"),
    (["env_probs=1.5"], "env_probs"),
    (["ood_prob=-0.1"], "ood_prob"),
    (["border=8"], "border=8"),
    (["grid=6"], "grid"),
    (["parity_bits=17"], "parity_bits"),
    (["patch=3"], "patch=3"),
    (["objective=dro"], "objective"),
    (["irm_lambda=-1"], "irm_lambda"),
    (["weights_path=/nonexistent/r18.pt"], "weights file"),
])
def test_bad_shortcut_configs(sets: list[str], match: str) -> None:
    with pytest.raises(GrokError, match=match):
        resolve_config("shortcut", "grokking", sets=sets)


def test_parse_probs() -> None:
    assert parse_probs("p", "0.95, 0.85") == [0.95, 0.85]
    with pytest.raises(GrokError):
        parse_probs("p", "")


def _folder(tmp: Path) -> Path:
    folder = tmp / "camelyon17_v1.0"
    (folder / "patches").mkdir(parents=True)
    (folder / "RELEASE_v1.0.txt").write_text("x")
    (folder / "metadata.csv").write_text(",patient,node,x_coord,y_coord,tumor,slide,center,split\n")
    return folder


def test_camelyon_folder_checks_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(GrokError, match="--data-dir"):
        check_camelyon_folder(None)
    with pytest.raises(GrokError, match="no such folder"):
        check_camelyon_folder(tmp_path / "nope")
    with pytest.raises(GrokError, match="missing camelyon17_v1.0/"):
        check_camelyon_folder(tmp_path)
    folder = _folder(tmp_path)
    assert check_camelyon_folder(tmp_path) == folder
    (folder / "RELEASE_v1.0.txt").unlink()
    with pytest.raises(GrokError, match="missing RELEASE_v1.0.txt"):
        check_camelyon_folder(tmp_path)
    (folder / "RELEASE_v1.0.txt").write_text("x")
    (folder / "metadata.csv").write_text(",patient,node,x_coord,y_coord,tumor\n")
    with pytest.raises(GrokError, match="missing column.*slide, center, split"):
        check_camelyon_folder(tmp_path)
    (folder / "metadata.csv").unlink()
    with pytest.raises(GrokError, match="missing metadata.csv"):
        check_camelyon_folder(tmp_path)


def test_camelyon_config_checks(tmp_path: Path) -> None:
    _folder(tmp_path)
    cfg = resolve_config("camelyon17", "standard", explicit={"data_dir": str(tmp_path)})
    assert cfg["model"] == "resnet18" and cfg["optimizer"] == "sgd"
    with pytest.raises(GrokError, match="mask_border"):
        resolve_config("camelyon17", "standard", explicit={"data_dir": str(tmp_path)}, sets=["mask_border=48"])

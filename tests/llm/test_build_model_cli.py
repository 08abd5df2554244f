"""`grok build-model` refuses bad input with one line and exit 2, before any training."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from grokconsole.cli import app


def test_refusals(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    (tmp_path / "file").write_text("x")
    for args, message in ((["--out", str(tmp_path / "m")], "already holds a model"),
                          (["--out", str(tmp_path / "file")], "not a folder"),
                          (["--steps", "0", "--out", str(tmp_path / "new")], "--steps must be"),
                          (["--long-steps=-1", "--out", str(tmp_path / "new")], "--long-steps must be"),
                          (["--stage1", str(tmp_path / "file"), "--out", str(tmp_path / "new")], "not a model folder")):
        res = runner.invoke(app, ["build-model", *args])
        assert res.exit_code == 2 and message in res.output, res.output
    assert not (tmp_path / "new").exists()

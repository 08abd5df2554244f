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
                          (["--prior-steps", "-1", "--out", str(tmp_path / "new")], "--prior-steps must be"),
                          (["--task", "procedural", "--prior-steps", "5", "--out", str(tmp_path / "new")],
                           "not to --task"),
                          (["--task", "modarith", "--out", str(tmp_path / "new")], "no built-in model of its own"),
                          (["--task", "nope", "--out", str(tmp_path / "new")], "unknown task")):
        res = runner.invoke(app, ["build-model", *args])
        assert res.exit_code == 2 and message in res.output, res.output
    assert not (tmp_path / "new").exists()


def test_a_task_builds_its_own_model(tmp_path: Path) -> None:
    """`--task procedural` writes a loadable folder whose tokenizer holds every character the task
    writes, with the recipe and the measured rates in build.json."""
    import json

    from grokconsole.llm.loading import load_model
    from grokconsole.llm.vocab import missing_characters
    from grokconsole.tasks.procedural.generators import ALPHABET

    out = tmp_path / "proc"
    res = CliRunner().invoke(app, ["build-model", "--task", "procedural", "--steps", "3", "--threads", "1",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "sampled accuracy on the default mix" in res.output
    info = json.loads((out / "build.json").read_text())
    assert info["config"]["steps"] == 3 and info["builder"] == "grokconsole.tasks.procedural.pretrain"
    assert set(info["quality"]["sample_acc"]) == {"arithmetic", "rpn", "parentheses", "all"}
    _, tokenizer = load_model(out)
    assert not missing_characters(tokenizer, ALPHABET)

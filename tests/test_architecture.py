"""The import contracts of ``.importlinter`` hold: layers stay layers (that file says the rules)."""
from __future__ import annotations

from pathlib import Path

import pytest
from importlinter import configuration
from importlinter.application.use_cases import lint_imports

CONFIG = Path(__file__).resolve().parents[1] / ".importlinter"


def test_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    configuration.configure()
    ok = lint_imports(config_filename=str(CONFIG), cache_dir=None, no_logo=True)
    assert ok, capsys.readouterr().out

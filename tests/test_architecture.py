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


def test_every_package_is_in_a_room() -> None:
    """A package outside the layers would escape every rule above: each one must be named there."""
    import configparser

    import grokconsole

    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    layers = parser["importlinter:contract:layers"]["layers"].split()
    rooms = {name for line in layers for name in line.split("|") if name.strip()}
    root = Path(grokconsole.__file__).parent
    packages = {p.parent.name for p in root.glob("*/__init__.py")}
    assert packages == rooms, f"packages not in a layer: {sorted(packages - rooms)}; layers without a package: {sorted(rooms - packages)}"
    # Root modules: the package entry points and the thin shim queued jobs still name.
    assert {p.stem for p in root.glob("*.py")} == {"__init__", "__main__", "supervise"}

"""grokconsole.core and the CLI's start-up import neither torch nor textual nor matplotlib."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "textual", "matplotlib", "plotext", "textual_plotext", "pandas")


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(m for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return {m.split(".")[0] for m in out.split()}


def test_core_imports_no_heavy_library() -> None:
    loaded = _loaded_after(
        "import grokconsole, grokconsole.tracker, grokconsole.launcher, grokconsole.supervise\n"
        "import pkgutil, importlib, grokconsole.core as c\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('grokconsole.core.' + m.name)"
    )
    assert not loaded.intersection(HEAVY), loaded.intersection(HEAVY)


def test_cli_startup_imports_no_heavy_library() -> None:
    loaded = _loaded_after("from grokconsole.cli import app")
    assert not loaded.intersection(HEAVY), loaded.intersection(HEAVY)

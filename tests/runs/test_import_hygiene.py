"""The torch-free rooms and the CLI's start-up import neither torch nor textual nor matplotlib."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "textual", "matplotlib", "plotext", "textual_plotext", "pandas")


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(m for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return {m.split(".")[0] for m in out.split()}


def test_pure_rooms_import_no_heavy_library() -> None:
    loaded = _loaded_after(
        "import grokconsole, grokconsole.runs.tracker, grokconsole.launch.process, grokconsole.launch.supervise\n"
        "import grokconsole.tasks.registry as r; r.all_specs()\n"
        "import pkgutil, importlib\n"
        "for room in ('runs', 'views', 'launch'):\n"
        "    pkg = importlib.import_module('grokconsole.' + room)\n"
        "    for m in pkgutil.iter_modules(pkg.__path__): importlib.import_module(f'grokconsole.{room}.{m.name}')"
    )
    assert not loaded.intersection(HEAVY), loaded.intersection(HEAVY)


def test_cli_startup_imports_no_heavy_library() -> None:
    loaded = _loaded_after("from grokconsole.cli import app")
    assert not loaded.intersection(HEAVY), loaded.intersection(HEAVY)


def test_reading_specs_and_loading_code_leave_the_environment_alone() -> None:
    """`grok run --task modarith` reads every spec; that must not change what its children inherit."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "TOKENIZERS_"))}
    code = ("import os\nfrom grokconsole.tasks.registry import all_specs\nall_specs()\n"
            "import grokconsole.llm.loading, grokconsole.llm.generate\n"
            "print(sorted(k for k in os.environ if k.startswith(('HF_', 'TRANSFORMERS_', 'TOKENIZERS_'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "[]"


"""grokconsole: a terminal experiment console for grokking research.

The package root stays import-light: ``Tracker`` is loaded on first use so that
``grok --help`` and ``import grokconsole`` never pull in heavy libraries.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grokconsole.runs.version import __version__

__all__ = ["Tracker", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from grokconsole.runs.tracker import Tracker


def __getattr__(name: str) -> Any:
    if name == "Tracker":
        from grokconsole.runs.tracker import Tracker

        return Tracker
    raise AttributeError(f"module 'grokconsole' has no attribute {name!r}")

"""The package version, in core so that provenance records it without importing the package root
(which reaches up to the tracker)."""
from __future__ import annotations

__version__ = "0.1.0"

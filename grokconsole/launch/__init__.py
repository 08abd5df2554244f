"""The one launch path: requests → prepared runs → run folders → a backend starts them.

``grok run``, the watch screen's launch form and ``grok sweep`` all go through here.
"""
from __future__ import annotations

from grokconsole.launch.backend import Backend, Job, Submission
from grokconsole.launch.backends import get_backend, make_backend
from grokconsole.launch.local import LocalBackend
from grokconsole.launch.request import LaunchRequest, PreparedRun, prepare
from grokconsole.launch.start import create_folder, launch, start

__all__ = ["Backend", "Job", "LaunchRequest", "LocalBackend", "PreparedRun", "Submission", "create_folder",
           "get_backend", "launch", "make_backend", "prepare", "start"]

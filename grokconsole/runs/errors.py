"""The one error type user-facing code turns into a clear message and exit code 2."""
from __future__ import annotations


class GrokError(Exception):
    """A bad input or a malformed file, with a message meant for the user."""

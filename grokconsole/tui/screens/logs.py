"""``l``: the tail of a run's stdout/stderr logs, refreshed while open."""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Log, Static

from grokconsole.runs.folder import RunPaths
from grokconsole.runs.safeio import Unreadable, read_tail

TAIL_BYTES = 32 * 1024


def tail_text(path: Path, max_bytes: int = TAIL_BYTES) -> str | None:
    """The last ``max_bytes`` of a text file (from a line start), or None when it is missing.

    Only a regular file is read (a FIFO would block the console); anything else says why.
    """
    try:
        got = read_tail(path, max_bytes)
    except Unreadable as exc:
        return f"({exc})"
    if got is None:
        return None
    data, start = got
    if start:
        cut = data.find(b"\n")
        data = data[cut + 1:] if cut >= 0 else data
    return data.decode("utf-8", errors="replace")


def log_text(paths: RunPaths) -> str:
    parts = []
    for label, path in (("stdout", paths.stdout_log), ("stderr", paths.stderr_log)):
        text = tail_text(path)
        if text is None:
            parts.append(f"── {label}: no {path.name} ──")
        else:
            parts.append(f"── {label} ({path}) ──\n{text.rstrip() or '(empty)'}")
    return "\n".join(parts)


class LogScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,l", "close", "close")]

    def __init__(self, paths: RunPaths, refresh: float = 1.0) -> None:
        super().__init__()
        self.paths = paths
        self.refresh_s = refresh
        self._last = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Static(f"logs of [b]{self.paths.run_id}[/b] (Esc closes)", id="log-title")
            yield Log(id="log", highlight=False)

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(self.refresh_s, self.reload)

    def reload(self) -> None:
        text = log_text(self.paths)
        if text == self._last:
            return
        self._last = text
        log = self.query_one(Log)
        log.clear()
        log.write(text)

    def action_close(self) -> None:
        self.dismiss(None)

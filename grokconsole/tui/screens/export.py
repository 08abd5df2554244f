"""``e``: run ``grok export-figures`` for some runs as a subprocess, streaming its output."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Log, Static


def export_command(runs_dir: Path, run_ids: list[str], out: Path,
                   group_by: tuple[str, ...] | None = None) -> list[str]:
    """The command line (a separate process, so a slow matplotlib export never freezes the console);
    the console's ``--group-by`` goes with it, so the figures group as the console does."""
    pattern = "^(" + "|".join(re.escape(r) for r in run_ids) + ")$"
    cmd = [sys.executable, "-m", "grokconsole", "export-figures", "--runs-dir", str(runs_dir),
           "--runs", pattern, "--out", str(out)]
    return cmd + (["--group-by", ",".join(group_by)] if group_by else [])


class ExportScreen(ModalScreen[int | None]):
    """Shows the command, its output as it comes, then the exit status and the output folder."""

    BINDINGS = [Binding("escape,q", "close", "close")]

    def __init__(self, runs_dir: Path, run_ids: list[str], out: Path,
                 group_by: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.runs_dir, self.run_ids, self.out, self.group_by = runs_dir, run_ids, out, group_by
        self.returncode: int | None = None
        self._proc: subprocess.Popen[str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Static(f"exporting figures of {len(self.run_ids)} runs → [b]{self.out}[/b]", id="export-title")
            yield Log(id="export-log", highlight=False)
            yield Static("running… (Esc closes; a running export is stopped)", id="export-status")

    def on_mount(self) -> None:
        self.run_export(export_command(self.runs_dir, self.run_ids, self.out, self.group_by))

    @work(thread=True, exclusive=True, group="export")
    def run_export(self, cmd: list[str]) -> None:
        log = self.query_one("#export-log", Log)
        self.app.call_from_thread(log.write_line, "$ grok " + " ".join(cmd[3:]))
        try:
            self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                          errors="replace", stdin=subprocess.DEVNULL)
        except OSError as exc:
            self.app.call_from_thread(self._finished, None, f"cannot start: {exc}")
            return
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self.app.call_from_thread(log.write_line, line.rstrip("\n"))
        code = self._proc.wait()
        self.app.call_from_thread(self._finished, code, None)

    def _finished(self, code: int | None, error: str | None) -> None:
        self.returncode = code
        status = self.query_one("#export-status", Static)
        if error:
            status.update(f"[red]export failed:[/] {error}")
        elif code == 0:
            status.update(f"[green]done[/] — figures in [b]{self.out}[/b] (Esc closes)")
        else:
            status.update(f"[red]export failed (exit {code})[/] — see the output above (Esc closes)")

    def action_close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
        self.dismiss(self.returncode)

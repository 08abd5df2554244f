"""``n``: a form to launch a run through the same path as ``grok run`` (presets → folder → launcher)."""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.config import CONDITIONS, default_task
from grokconsole.tasks.registry import task_names


def launch_run(runs_dir: Path, task: str, condition: str, n_train: str, seed: str, epochs: str) -> str:
    """Parse the form's fields and launch through the same path as ``grok run``; returns the run id."""
    from grokconsole.launch import LaunchRequest, launch

    numbers: dict[str, int | None] = {}
    for key, text in (("n_train", n_train), ("seed", seed), ("epochs", epochs)):
        text = text.strip()
        try:
            numbers[key] = int(text) if text else None
        except ValueError:
            raise GrokError(f"{key} must be an integer, got {text!r}") from None
    request = LaunchRequest(runs_dir, task=task, condition=condition, n_train=numbers["n_train"],
                            seed=numbers["seed"] or 0, epochs=numbers["epochs"], argv=["grok", "watch"])
    return launch(request).run_id


class LaunchScreen(ModalScreen[str | None]):
    """Returns the new run id, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = runs_dir

    def compose(self) -> ComposeResult:
        tasks = task_names()
        with Vertical(id="dialog", classes="form"):
            yield Static("[b]launch a run[/b] (same launcher as grok run)")
            with Grid(id="fields"):
                yield Label("task")
                yield Select([(t, t) for t in tasks], value=default_task(), allow_blank=False, id="task",
                             compact=True)
                yield Label("condition")
                yield Select([(c, c) for c in CONDITIONS], value=CONDITIONS[0], allow_blank=False,
                             id="condition", compact=True)
                yield Label("n_train")
                yield Input(placeholder="empty: the task's default", id="n_train", compact=True)
                yield Label("seed")
                yield Input(value="0", id="seed", compact=True)
                yield Label("epochs")
                yield Input(placeholder="empty: the preset's", id="epochs", compact=True)
            yield Static("", id="form-error")
            with Horizontal(id="buttons"):
                yield Button("Launch", variant="success", id="launch", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "launch":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        task = str(self.query_one("#task", Select).value)
        condition = str(self.query_one("#condition", Select).value)
        try:
            run_id = launch_run(self.runs_dir, task, condition, self._value("n_train"), self._value("seed"),
                                self._value("epochs"))
        except (GrokError, OSError) as exc:
            self.query_one("#form-error", Static).update(f"[red]error:[/] {exc}")
            return
        self.dismiss(run_id)

    def action_cancel(self) -> None:
        self.dismiss(None)

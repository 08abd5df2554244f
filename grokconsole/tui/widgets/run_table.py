"""The run list: one row per run, status in colour, ⚑ and the grokking epoch."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from grokconsole.cli.common import STATUS_STYLE, fmt_num
from grokconsole.core.watcher import RunView

COLUMNS = (("mark", " "), ("run", "run"), ("task", "task"), ("condition", "condition"), ("n", "n"),
           ("seed", "seed"), ("status", "status"), ("epoch", "epoch"), ("train", "train"),
           ("val", "val"), ("ood", "OOD"), ("grok", "grok"))
RUN_WIDTH = 26


def _short(run_id: str) -> str:
    return run_id if len(run_id) <= RUN_WIDTH else run_id[: RUN_WIDTH - 1] + "…"


def _progress(view: RunView) -> str:
    if view.epoch is None:
        return "—"
    if view.epochs:
        return f"{fmt_num(view.epoch)}/{fmt_num(view.epochs)}"
    return fmt_num(view.epoch)


def row_cells(view: RunView, marked: bool) -> list[object]:
    """The cells of one run's row."""
    grok = Text(f"⚑ {fmt_num(view.grok_epoch)}", style="bold magenta") if view.grok_epoch is not None \
        else Text("—", style="dim")
    status = Text(view.status + ("!" if view.error else ""), style=STATUS_STYLE.get(view.status, ""))
    return [
        Text("●", style="bold yellow") if marked else Text(" "),
        _short(view.run_id), view.task, view.condition, fmt_num(view.n_train), fmt_num(view.seed), status,
        _progress(view), fmt_num(view.train_acc), fmt_num(view.val_acc), fmt_num(view.ood_acc), grok,
    ]


class RunTable(DataTable):
    """A DataTable keyed by run id; rows are updated in place, never rebuilt on a poll."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, label in COLUMNS:
            self.add_column(label, key=key, width=RUN_WIDTH if key == "run" else None)

    def show_rows(self, views: list[RunView], marked: set[str]) -> None:
        """Replace every row (after a filter change), keeping the cursor on the same run if possible."""
        current = self.current_key()
        self.clear()
        for view in views:
            self.add_row(*row_cells(view, view.run_id in marked), key=view.run_id)
        if current is not None and current in self.rows:
            self.move_cursor(row=self.get_row_index(current))

    def update_run(self, view: RunView, marked: bool) -> None:
        if view.run_id not in self.rows:
            return
        for (key, _label), cell in zip(COLUMNS, row_cells(view, marked)):
            self.update_cell(view.run_id, key, cell)

    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - an empty or shrinking table has no cursor row
            return None

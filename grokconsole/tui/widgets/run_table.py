"""The run list: one row per run, status in colour, progress (epochs, or steps for a run counted in
optimizer steps), ⚑ and the grokking epoch."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from grokconsole.views.formatting import STATUS_STYLE, fmt_acc, fmt_num
from grokconsole.views.watcher import RunView

# (key, label, width); the run column takes what is left.
COLUMNS = (("mark", " ", 1), ("run", "run", 0), ("task", "task", 9), ("condition", "condition", 9),
           ("n", "n", 5), ("seed", "seed", 4), ("status", "status", 14), ("epoch", "epoch/step", 11),
           ("train", "train", 5), ("val", "val", 5), ("ood", "OOD", 5), ("grok", "grok", 6))
# Below this width the table drops what the run id usually says anyway (task, condition, n, seed).
WIDE = 120
NARROW_HIDDEN = ("task", "condition", "n", "seed", "train")
RUN_MIN, RUN_MAX = 16, 44
FIRST_CHUNK, CHUNK = 100, 250  # rows added before the first paint, then per repaint


def _short(run_id: str, width: int) -> str:
    return run_id if len(run_id) <= width else run_id[: width - 1] + "…"


def _progress(view: RunView, compact: bool) -> str:
    """``epoch/epochs``; ``step/max_steps`` for a run counted in optimizer steps."""
    if view.max_steps:
        if view.step is None:
            return "—"
        return fmt_num(view.step) if compact else f"{fmt_num(view.step)}/{fmt_num(view.max_steps)}"
    if view.epoch is None:
        return "—"
    if view.epochs and not compact:
        return f"{fmt_num(view.epoch)}/{_length(view.epochs)}"
    return fmt_num(view.epoch)


def _length(epochs: float) -> str:
    """A run's length in epochs, short (a legacy run's may not be a whole number)."""
    if float(epochs).is_integer() or epochs >= 100:
        return f"{epochs:.0f}"
    return f"{epochs:.3g}"


def row_cells(view: RunView, marked: bool, run_width: int = 26, compact: bool = False) -> dict[str, object]:
    """The cells of one run's row, by column key."""
    at = view.grok_step if view.max_steps and view.grok_step is not None else view.grok_epoch  # the progress column's unit
    grok = Text(f"⚑ {fmt_num(at)}", style="bold magenta") if at is not None else Text("—", style="dim")
    status = Text(view.status + ("!" if view.error else ""), style=STATUS_STYLE.get(view.status, ""))
    if view.eval_note:  # a grok eval job of the run that is running or broke
        status.append(" +eval" if view.eval_note == "eval running" else " eval!",
                      style="cyan" if view.eval_note == "eval running" else "bold red")
    return {
        "mark": Text("●", style="bold yellow") if marked else Text(" "),
        "run": _short(view.run_id, run_width), "task": view.task, "condition": view.condition,
        "n": fmt_num(view.n_train), "seed": fmt_num(view.seed), "status": status,
        "epoch": _progress(view, compact), "train": fmt_acc(view.train_acc), "val": fmt_acc(view.val_acc),
        "ood": fmt_acc(view.ood_acc), "grok": grok,
    }


class RunTable(DataTable):
    """A DataTable keyed by run id; rows are updated in place, never rebuilt on a poll."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self._shown: dict[str, tuple[RunView, bool]] = {}
        self._pending: dict[str, tuple[RunView, bool]] = {}
        self._restore: str | None = None
        self.columns_shown: list[str] = []
        self.run_width = 26
        self.compact = False

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True

    def fit(self, width: int) -> bool:
        """Choose the columns for a terminal ``width``; True when they changed (rows must be re-added)."""
        compact = width < WIDE
        keys = [k for k, _l, _w in COLUMNS if not (compact and k in NARROW_HIDDEN)]
        fixed = sum(w for k, _l, w in COLUMNS if k in keys and k != "run") + 2 * len(keys) + 2 - 4 * compact
        run_width = max(RUN_MIN, min(RUN_MAX, width - fixed))
        if keys == self.columns_shown and run_width == self.run_width:
            return False
        self.compact, self.run_width, self.columns_shown = compact, run_width, keys
        self.clear(columns=True)
        for key, label, w in COLUMNS:
            if key in keys:
                if key == "run":
                    w = run_width
                elif key == "epoch" and compact:
                    w, label = 7, "ep/step"  # no "/total" in the compact layout
                self.add_column(label, key=key, width=w)
        return True

    def _cells(self, view: RunView, marked: bool) -> list[object]:
        cells = row_cells(view, marked, self.run_width, self.compact)
        return [cells[k] for k in self.columns_shown]

    def show_rows(self, views: list[RunView], marked: set[str]) -> None:
        """Replace every row (after a filter change), keeping the cursor on the same run if possible.

        The first rows go in at once; the rest follow in chunks after each repaint, so a list of
        a thousand runs does not hold back the first screen (DataTable measures every cell).
        """
        current = self.current_key()
        self.clear()
        self._shown = {}
        self._pending = {v.run_id: (v, v.run_id in marked) for v in views}
        self._restore = current
        self._add_chunk(FIRST_CHUNK)

    def _add_chunk(self, size: int = CHUNK) -> None:
        pending = self._pending
        for key in list(pending)[:size]:
            view, marked = pending.pop(key)
            self._shown[key] = (view, marked)
            self.add_row(*self._cells(view, marked), key=key)
        if self._restore is not None and self._restore in self.rows:
            self.move_cursor(row=self.get_row_index(self._restore))
            self._restore = None
        if pending:
            self.call_after_refresh(self._add_chunk)

    @property
    def filling(self) -> bool:
        """Rows still waiting to be added."""
        return bool(self._pending)

    def update_run(self, view: RunView, marked: bool) -> None:
        self.update_runs([(view, marked)])

    def update_runs(self, items: list[tuple[RunView, bool]]) -> None:
        """Update many rows with one repaint (``update_cell`` repaints per cell: 200 runs took 50 ms)."""
        shown = self._shown
        for v, m in items:
            if v.run_id in self._pending:
                self._pending[v.run_id] = (v, m)  # added later with its latest values
        todo = [(v, m) for v, m in items if v.run_id in self.rows and shown.get(v.run_id) != (v, m)]
        if not todo:
            return
        data = getattr(self, "_data", None)
        for view, marked in todo:
            shown[view.run_id] = (view, marked)
            cells = self._cells(view, marked)
            row = data.get(RowKey(view.run_id)) if isinstance(data, dict) else None
            if row is None:  # not the DataTable internals we know: the slow public path
                for key, cell in zip(self.columns_shown, cells):
                    self.update_cell(view.run_id, key, cell)
                continue
            for key, cell in zip(self.columns_shown, cells):
                row[ColumnKey(key)] = cell
        self._update_count += 1
        self.refresh()

    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - an empty or shrinking table has no cursor row
            return None

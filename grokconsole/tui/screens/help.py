"""``?``: every key of the console."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """[b]grok watch — keys[/b]

  [b]↑/↓[/b]    select a run (its curves are plotted)
  [b]space[/b]  mark / unmark: marked runs are overlaid in the plots
  [b]g[/b]      group by every setting that differs: mean ± std over seeds
  [b]s[/b]      smoothing: off → EMA 0.6 → EMA 0.9 (debiased)
  [b]x[/b]      x axis: epoch → log epoch → wall time
  [b]y[/b]      log scale on the panels a task marks for it
  [b]/[/b]      filter by a regex over run name and config (empty: all)
  [b]l[/b]      tail of the selected run's logs
  [b]k[/b]      stop the selected run (asks first)
  [b]n[/b]      launch a new run (same launcher as grok run)
  [b]e[/b]      export figures of the marked (else the shown) runs
  [b]?[/b]      this help
  [b]q[/b]      quit

⚑ marks a run where grokking was detected, with its epoch;
the plots draw a vertical line there.   Esc closes this help."""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(HELP, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)

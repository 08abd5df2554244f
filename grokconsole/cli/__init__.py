"""The ``grok`` command line: one module per command; heavy libraries load inside commands."""
from __future__ import annotations

import typer

from grokconsole.cli import build_model as _build_model
from grokconsole.cli import eval as _eval
from grokconsole.cli import export_figures as _export
from grokconsole.cli import ls as _ls
from grokconsole.cli import run as _run
from grokconsole.cli import show as _show
from grokconsole.cli import stop as _stop
from grokconsole.cli import sweep as _sweep
from grokconsole.cli import watch as _watch

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    help="grokconsole: launch, watch and plot grokking experiments.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("run", context_settings={"allow_interspersed_args": True})(_run.run)
app.command("ls")(_ls.ls)
app.command("show")(_show.show)
app.command("stop")(_stop.stop)
app.command("sweep")(_sweep.sweep)
app.command("watch")(_watch.watch)
app.command("export-figures")(_export.export_figures)
app.command("eval")(_eval.eval_cmd)
app.command("build-model")(_build_model.build_model)


def main() -> None:
    """Console-script entry point."""
    app()

"""Options shared by several commands."""

from __future__ import annotations

import typer

DB = typer.Option(
    None,
    "--db",
    envvar="VIGIL_DB",
    help="Database file (SQLite, created on first use) or URL. Default: VIGIL_DB, else "
    "~/.local/share/vigil/vigil.db.",
)
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


def progress_bar(*columns):
    """A Rich progress display on stderr; off when stderr is not a terminal (scripts, CI logs)."""
    from rich.console import Console
    from rich.progress import Progress

    err = Console(stderr=True)
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)

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

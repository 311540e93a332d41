"""Options shared by several commands."""

from __future__ import annotations

from functools import cache

import typer

from vigil.settings import Settings, prepare_process

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


@cache
def settings() -> Settings:
    """The settings of this command's process: read once (VIGIL_CONFIG file, VIGIL_* variables)."""
    return Settings.load()


def prepare_images() -> None:
    """For commands that decode images: Pillow's limits from the settings, in this process (pools
    of workers are prepared the same way by the scan pipeline)."""
    prepare_process(settings(), images=True)


def open_database(db: str | None, create: bool = True):
    """The database of `--db` (or the settings' `db`), with the settings' index folder."""
    from vigil.store import open_database as open_store

    current = settings()
    return open_store(db or current.db, create=create, index_dir=current.index_dir)

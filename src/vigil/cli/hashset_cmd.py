"""`vigil hashset import|list`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vigil.cli.options import DB, JSON, progress_bar
from vigil.errors import VigilError

app = typer.Typer(help="Hash lists: import and list named hash sets.", no_args_is_help=True)


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="VICS JSON, or a text/CSV list of hashes."),
    name: str = typer.Option(..., "--name", help="Name of the hash set (replaces one of that name)."),
    fmt: str = typer.Option("auto", "--format", help="auto, vics or text."),
    source: str = typer.Option(None, "--source", help="Who published the list."),
    category: str = typer.Option(None, "--category", help="Category of entries that carry none."),
    signal: str = typer.Option(None, "--signal", help="Text lists: md5, sha1, sha256 or pdq."),
    scheme: str = typer.Option("us", "--scheme", help="VICS category scheme: us or legacy."),
    known: bool = typer.Option(
        None,
        "--known/--not-known",
        help="Known-good set: matching files are counted and skipped in scans. Default: NSRL yes, others no.",
    ),
    db: str = DB,
) -> None:
    """Import a hash list as a named hash set, in one transaction."""
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    from vigil.classify import SCHEMES, normalise_label
    from vigil.hashsets import FORMATS, KNOWN_BY_DEFAULT, detect_format, read_entries
    from vigil.signals import get_signal
    from vigil.store import open_database
    from vigil.store.hashsets import HashsetRepository

    if not path.is_file():
        raise VigilError(f"{path}: no such file")
    if scheme not in SCHEMES:
        raise VigilError(f"--scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    if fmt not in FORMATS:
        raise VigilError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if signal is not None:
        get_signal(signal)  # an unknown name is an error before anything is read or written
    repo = HashsetRepository(open_database(db))
    if fmt == "auto":
        fmt = detect_format(path)
    entries = read_entries(path, fmt, signal=signal, scheme=scheme)
    with progress_bar(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
        task = bar.add_task(f"importing {path.name}", total=None)
        info = repo.import_entries(
            name,
            entries,
            fmt=fmt,
            source=source,
            category=normalise_label(category) if category else None,
            path=path,
            known=fmt in KNOWN_BY_DEFAULT if known is None else known,
            progress=lambda n: bar.update(task, description=f"importing {path.name}: {n:,} entries"),
        )
    kind = "known-good hash set" if info.known else "hash set"
    typer.echo(f"imported {info.entries:,} entries into {kind} {info.name!r}")


@app.command("list")
def list_(as_json: bool = JSON, db: str = DB) -> None:
    """List hash sets with their source and entry counts."""
    from vigil.store import open_database
    from vigil.store.hashsets import HashsetRepository

    infos = HashsetRepository(open_database(db)).list()
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "entries", "format", "source", "category", "imported", box=None)
    for i in infos:
        name = i.name + (" (known)" if i.known else "") + ("" if i.enabled else " (disabled)")
        table.add_row(name, f"{i.entries:,}", i.format, i.source or "", i.category or "", i.imported_at)
    Console().print(table if infos else "no hash sets yet: vigil hashset import PATH --name NAME")

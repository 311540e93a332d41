"""`vigil hashset import|list`."""

from __future__ import annotations

import json
from itertools import chain
from pathlib import Path

import typer

from vigil.cli.options import DB, JSON, progress_bar
from vigil.errors import VigilError

app = typer.Typer(help="Hash lists: import and list named hash sets.", no_args_is_help=True)


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="VICS JSON, or a text/CSV list of hashes."),
    name: str = typer.Option(..., "--name", help="Name of the hash set (replaces one of that name)."),
    fmt: str = typer.Option(
        "auto", "--format", help="auto, vics, nsrl, text, pdq or vpdq (a file or folder of Meta's vPDQ text)."
    ),
    source: str = typer.Option(None, "--source", help="Who published the list."),
    category: str = typer.Option(None, "--category", help="Category of entries that carry none."),
    signal: str = typer.Option(None, "--signal", help="Text lists: md5, sha1, sha256 or pdq."),
    scheme: str = typer.Option("us", "--scheme", help="VICS category scheme: us or legacy."),
    nsrl_delta: Path = typer.Option(
        None, "--nsrl-delta", help="NSRL quarterly delta SQL file, applied to PATH (left unchanged) first."
    ),
    known: bool = typer.Option(
        None,
        "--known/--not-known",
        help="Known-good set: matching files are counted and skipped in scans. Default: NSRL yes, others no.",
    ),
    allow_empty: bool = typer.Option(
        False, "--allow-empty", help="Accept a list with no entries (otherwise an error)."
    ),
    db: str = DB,
) -> None:
    """Import a hash list as a named hash set, in one transaction."""
    from rich.markup import escape
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    from vigil.classify import SCHEMES, normalise_label
    from vigil.cli.options import open_database
    from vigil.hashsets import FORMATS, KNOWN_BY_DEFAULT, detect_format, read_entries
    from vigil.safetext import visible
    from vigil.signals import get_signal
    from vigil.store.hashsets import HashsetRepository

    if not path.is_file() and not (path.is_dir() and fmt in ("auto", "vpdq")):
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
    if nsrl_delta is not None and not nsrl_delta.is_file():
        raise VigilError(f"--nsrl-delta {nsrl_delta}: no such file")
    entries = read_entries(path, fmt, blocks=True, signal=signal, scheme=scheme, delta=nsrl_delta)
    with progress_bar(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
        shown = escape(visible(path.name))  # a file name is data, not Rich markup
        task = bar.add_task(f"importing {shown}", total=None)
        info = repo.import_entries(
            name,
            entries,
            fmt=fmt,
            source=source,
            category=normalise_label(category) if category else None,
            path=path,
            known=fmt in KNOWN_BY_DEFAULT if known is None else known,
            progress=lambda n: bar.update(task, description=f"importing {shown}: {n:,} entries"),
            allow_empty=allow_empty,
        )
    kind = "known-good hash set" if info.known else "hash set"
    entries = f"{info.entries:,} entr{'y' if info.entries == 1 else 'ies'}"
    typer.echo(f"imported {entries} into {kind} {info.name!r}, version {info.version}")
    if info.changes is not None:
        c = info.changes
        typer.echo(
            f"against version {info.version - 1}: {c['added']:,} added, {c['removed']:,} removed, "
            f"{c['changed']:,} changed category (old version kept as {info.name}@{info.version - 1})"
        )


@app.command("list")
def list_(
    as_json: bool = JSON,
    all_versions: bool = typer.Option(False, "--all", help="Include archived versions (NAME@VERSION)."),
    db: str = DB,
) -> None:
    """List hash sets with their source and entry counts."""
    from vigil.cli.options import open_database
    from vigil.store.hashsets import HashsetRepository

    infos = HashsetRepository(open_database(db, create=False)).list(archived=all_versions)
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from vigil.safetext import visible

    if not infos:
        typer.echo("no hash sets yet: vigil hashset import PATH --name NAME")
        return
    headers = ("name", "ver", "entries", "format", "category", "imported (UTC)", "source")
    table = Table(*headers, box=None, pad_edge=False)
    table.columns[0].overflow = table.columns[6].overflow = "fold"
    table.columns[0].min_width = table.columns[6].min_width = 14
    for column in table.columns[1:6]:
        column.no_wrap = True
    for i in infos:  # names and sources are the publisher's text: data, never Rich markup
        name = i.name + (" (known)" if i.known else "") + ("" if i.enabled else " (disabled)")
        imported = str(i.imported_at).replace("T", " ")[:16]
        cells = (name, str(i.version), f"{i.entries:,}", i.format, i.category or "", imported, i.source or "")
        table.add_row(*(Text(visible(c)) for c in cells))
    Console().print(table)


@app.command("show")
def show(name: str = typer.Argument(..., help="NAME or NAME@VERSION."), db: str = DB) -> None:
    """Show one hash set: provenance, version, state, entries per signal (JSON)."""
    from vigil.cli.options import open_database
    from vigil.store.hashsets import HashsetRepository

    repo = HashsetRepository(open_database(db, create=False))
    info = repo.get(name).as_dict()
    info["signals"] = repo.signals_of(name)
    typer.echo(json.dumps(info, indent=2))


@app.command("diff")
def diff(
    a: str = typer.Argument(..., help="NAME or NAME@VERSION."),
    b: str = typer.Argument(..., help="NAME or NAME@VERSION."),
    as_json: bool = JSON,
    db: str = DB,
) -> None:
    """What B adds to, removes from and changes in A: {"added", "removed", "changed"}."""
    from vigil.cli.options import open_database
    from vigil.store.setadmin import SetAdmin

    result = SetAdmin(open_database(db, create=False)).diff(a, b)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key in ("added", "removed", "changed"):
        typer.echo(f"{key}: {len(result[key]):,}")
        for e in result[key][:20]:
            extra = f"{e['from']} -> {e['to']}" if key == "changed" else (e["category"] or "")
            typer.echo(f"  {e['signal']:<7}{e['hash']}  {extra}".rstrip())
        if len(result[key]) > 20:
            typer.echo(f"  ... {len(result[key]) - 20:,} more (--json for all)")


@app.command("add-files")
def add_files(
    paths: list[Path] = typer.Argument(..., help="Images, videos, or folders of them (recursively)."),
    name: str = typer.Option(..., "--name", help="Name of the hash set (replaces one of that name)."),
    category: str = typer.Option(None, "--category", help="Category of every entry."),
    source: str = typer.Option(None, "--source", help="Who assessed the material."),
    workers: int = typer.Option(0, "--workers", help="Worker processes (default: all cores)."),
    allow_empty: bool = typer.Option(
        False, "--allow-empty", help="Make the set even when no image or video is found."
    ),
    db: str = DB,
) -> None:
    """Hash images (MD5, SHA-1, SHA-256, PDQ) and videos (the same and vPDQ) into a hash set."""
    from rich.progress import BarColumn, MofNCompleteColumn

    from vigil.classify import normalise_label
    from vigil.cli.options import open_database
    from vigil.scan.addfiles import entries_of, hash_paths
    from vigil.store.hashsets import HashsetRepository

    for path in paths:
        if not path.exists():
            raise VigilError(f"{path}: no such file or folder")
    label = normalise_label(category) if category else None
    repo = HashsetRepository(open_database(db))
    with progress_bar("hashing", BarColumn(), MofNCompleteColumn()) as bar:
        task = bar.add_task("hashing", total=None)
        items = hash_paths(paths, workers or None, lambda d, t: bar.update(task, completed=d, total=t))
    media = sum(1 for it in items if not it.error and (it.pdq or it.vpdq))
    if not media and not allow_empty:
        raise VigilError(
            f"no image or video found in {', '.join(map(str, paths))} ({len(items):,} files read); "
            "nothing added (use --allow-empty to make an empty set on purpose)"
        )
    info = repo.import_entries(
        name, entries_of(items, label), fmt="files", source=source, category=label, allow_empty=allow_empty
    )
    typer.echo(f"added {media:,} images and videos ({info.entries:,} entries) to hash set {info.name!r}")


@app.command("export")
def export(
    name: str = typer.Argument(..., help="NAME or NAME@VERSION."),
    fmt: str = typer.Option("text", "--format", help="vics, text or vpdq (a folder, one file per video)."),
    output: Path = typer.Option(None, "--output", help="File to write (default: standard output)."),
    scheme: str = typer.Option("us", "--scheme", help="VICS category scheme: us or legacy."),
    include_paths: bool = typer.Option(
        False,
        "--include-paths",
        help="Keep the unit's own file paths as MediaID/file names (default: numbered, no local paths).",
    ),
    db: str = DB,
) -> None:
    """Write a hash set as VICS JSON or text/CSV (its videos with --format vpdq); the output imports
    back to the same entries. Files are meant to be shared: sets made from the unit's own files
    (add-files, vPDQ folders) are written without their local paths unless --include-paths."""
    import sys

    from vigil.cli.options import open_database
    from vigil.hashsets.writers import (
        LOCAL_REF_FORMATS,
        anonymise_refs,
        write_text,
        write_vics,
        write_vpdq_folder,
    )
    from vigil.signals import get_signal
    from vigil.store.hashsets import HashsetRepository
    from vigil.store.setadmin import SetAdmin

    if fmt not in ("vics", "text", "vpdq"):
        raise VigilError(f"--format must be vics, text or vpdq, got {fmt!r}")
    if fmt == "vpdq" and output is None:
        raise VigilError("--format vpdq writes a folder: give it with --output FOLDER")
    database = open_database(db, create=False)
    repo = HashsetRepository(database)
    counts = repo.signals_of(name)  # an unknown NAME fails here, before any file is created
    videos = sum(n for signal, n in counts.items() if not get_signal(signal).width)
    wanted = videos if fmt == "vpdq" else sum(counts.values()) - videos
    if counts and not wanted:  # an export that silently writes an empty list would be a loss
        other = "--format vics or text" if fmt == "vpdq" else "--format vpdq --output FOLDER"
        what = "no videos (vPDQ)" if fmt == "vpdq" else "only videos (vPDQ)"
        raise VigilError(f"hash set {name!r} holds {what}: export it with {other}")
    if videos and fmt != "vpdq":
        typer.echo(f"note: {videos:,} videos left out (--format vpdq --output FOLDER has them)", err=True)
    entries = SetAdmin(database).entries(name)
    first = next(entries, None)
    rows = chain([first], entries) if first is not None else iter(())
    if not include_paths and repo.get(name).format in LOCAL_REF_FORMATS:
        rows = anonymise_refs(rows)
    if fmt == "vpdq":
        count = write_vpdq_folder(rows, output)
        typer.echo(f"wrote {count:,} videos to {output}")
        return
    rows = (e for e in rows if get_signal(e.signal).width)  # variable-length (videos): --format vpdq
    try:
        out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    except OSError as exc:
        raise VigilError(f"--output {output}: cannot write: {exc.strerror}") from None
    try:
        write_vics(rows, out, scheme) if fmt == "vics" else write_text(rows, out)
    finally:
        if output:
            out.close()


def _set_state(name: str, db: str | None, enabled: bool) -> None:
    from vigil.cli.options import open_database
    from vigil.store.setadmin import SetAdmin

    SetAdmin(open_database(db, create=False)).set_enabled(name, enabled)
    typer.echo(f"hash set {name!r} {'enabled' if enabled else 'disabled'}")


@app.command("disable")
def disable(name: str = typer.Argument(...), db: str = DB) -> None:
    """Stop matching against a hash set (it stays, and can be enabled again)."""
    _set_state(name, db, False)


@app.command("enable")
def enable(name: str = typer.Argument(...), db: str = DB) -> None:
    """Match against a disabled hash set again."""
    _set_state(name, db, True)


@app.command("delete")
def delete(
    name: str = typer.Argument(..., help="NAME (with all its versions) or NAME@VERSION."), db: str = DB
) -> None:
    """Delete a hash set and its archived versions, or one archived version."""
    from vigil.cli.options import open_database
    from vigil.store.setadmin import SetAdmin

    count = SetAdmin(open_database(db, create=False)).delete(name)
    typer.echo(f"deleted {name!r} ({count} version{'s' if count != 1 else ''})")

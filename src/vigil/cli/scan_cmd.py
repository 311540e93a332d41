"""`vigil scan PATH --case NAME [--json FILE] [--threshold N]`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vigil.cli.options import DB, progress_bar
from vigil.errors import VigilError


def scan(
    path: Path = typer.Argument(..., help="Evidence folder (or one file)."),
    case: str = typer.Option(..., "--case", help="Case name; a re-scan replaces it."),
    json_out: Path = typer.Option(None, "--json", help="Write the case result as JSON to FILE."),
    threshold: int = typer.Option(31, "--threshold", help="PDQ match distance, 0-63 bits (default 31)."),
    workers: int = typer.Option(0, "--workers", help="Worker processes (default: all cores)."),
    db: str = DB,
) -> None:
    """Hash every file (archives included), match against the hash sets, group duplicates."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn

    from vigil.scan.pipeline import run_scan
    from vigil.store import open_database

    if not 0 <= threshold <= 63:  # the exact index probes up to 3 bits per 16-bit chunk
        raise VigilError(f"--threshold must be 0-63, got {threshold}")
    if not path.exists():
        raise VigilError(f"{path}: no such file or folder")
    if json_out is not None and json_out.is_dir():
        raise VigilError(f"--json {json_out}: is a folder; give a file path")
    database = open_database(db)
    with progress_bar("hashing", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("hashing", total=None)
        result = run_scan(
            database,
            path,
            case,
            threshold,
            workers or None,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    report = result.report()
    if json_out is not None:
        try:
            json_out.write_text(json.dumps(report, indent=2) + "\n")
        except OSError as exc:
            raise VigilError(f"--json {json_out}: cannot write: {exc.strerror}") from None
    _print_summary(Console(), report)


def _print_summary(console, report: dict) -> None:
    from rich.table import Table

    summary = report["summary"]
    table = Table(title=f"case {report['case']}", box=None, show_header=False)
    for key in ("files", "images", "known", "errors", "matched_exact", "matched_near", "duplicate_groups"):
        table.add_row(key.replace("_", " "), f"{summary[key]:,}")
    console.print(table)
    hits = [it for it in report["items"] if it["matches"]]
    if hits:
        t = Table("path", "hash set", "signal", "distance", "category", title="known material", box=None)
        t.columns[0].overflow = "fold"
        for it in hits:
            m = it["matches"][0]
            t.add_row(it["path"], m["hashset"], m["signal"], str(m["distance"]), m["category"] or "")
        console.print(t)
    errors = [it for it in report["items"] if it["error"]]
    if errors:
        t = Table("path", "error", title="could not be read", box=None)
        t.columns[0].overflow = "fold"
        for it in errors:
            t.add_row(it["path"], it["error"])
        console.print(t)

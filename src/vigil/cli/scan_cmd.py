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
    resume: bool = typer.Option(
        False, "--resume", help="Carry on an interrupted scan of the case: only what is not yet recorded."
    ),
    dask: str = typer.Option(
        None, "--dask", help="Run on a Dask cluster (scheduler ADDRESS); workers read PATH at the same path."
    ),
    csv_out: Path = typer.Option(None, "--csv", help="Write one row per item as CSV to FILE."),
    html_out: Path = typer.Option(
        None, "--html", help="Write a self-contained HTML report (thumbnails blurred) to FILE."
    ),
    db: str = DB,
) -> None:
    """Hash every file (archives, disk images, videos, hidden images included), match against the hash
    sets, group duplicates. Progress is recorded as it goes: after an interruption, --resume."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn

    from vigil.scan.pipeline import run_scan
    from vigil.store import open_database

    if not 0 <= threshold <= 63:  # the exact index probes up to 3 bits per 16-bit chunk
        raise VigilError(f"--threshold must be 0-63, got {threshold}")
    if not path.exists():
        raise VigilError(f"{path}: no such file or folder")
    for option, out in (("--json", json_out), ("--csv", csv_out), ("--html", html_out)):
        if out is not None and out.is_dir():
            raise VigilError(f"{option} {out}: is a folder; give a file path")
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
            resume=resume,
            dask=dask,
        )
    report = result.report()
    write_outputs(report, path, json_out, csv_out, html_out)
    _print_summary(Console(), report)


SHOWN = 50  # rows of each table on the terminal; the files written have them all


def write_json(report: dict, fh) -> None:
    """The case JSON, one item per line: readable, diffable, and written by the C encoder (an indented
    dump of 20,000 items takes seconds in the pure-Python one)."""
    head = {k: v for k, v in report.items() if k != "items"}
    fh.write(json.dumps(head, indent=1)[:-2] + ',\n "items": [\n')
    fh.write(",\n".join(json.dumps(it, ensure_ascii=False) for it in report["items"]))
    fh.write("\n ]\n}\n")


def write_outputs(report: dict, evidence: Path, json_out, csv_out, html_out) -> None:
    from vigil.scan.reporting import html_report, write_csv

    outputs = (
        ("--json", json_out, lambda fh: write_json(report, fh)),
        ("--csv", csv_out, lambda fh: write_csv(report, fh)),
        ("--html", html_out, lambda fh: fh.write(html_report(report, evidence))),
    )
    for option, out, write in outputs:
        if out is None:
            continue
        try:
            with open(out, "w", encoding="utf-8", newline="") as fh:
                write(fh)
        except OSError as exc:
            raise VigilError(f"{option} {out}: cannot write: {exc.strerror}") from None


def _print_summary(console, report: dict) -> None:
    from rich.table import Table

    summary = report["summary"]
    table = Table(title=f"case {report['case']}", box=None, show_header=False)
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)
    hits = [it for it in report["items"] if it["matches"]]
    if hits:
        t = Table("path", "hash set", "signal", "distance", "category", title="known material", box=None)
        t.columns[0].overflow = "fold"
        for it in hits[:SHOWN]:
            m = it["matches"][0]
            t.add_row(it["path"], m["hashset"], m["signal"], str(m["distance"]), m["category"] or "")
        console.print(t)
        if len(hits) > SHOWN:
            console.print(f"... and {len(hits) - SHOWN:,} more (all in --json, --csv and --html)")
    errors = [it for it in report["items"] if it["error"]]
    if errors:
        t = Table("path", "error", title="could not be read", box=None)
        t.columns[0].overflow = "fold"
        for it in errors[:SHOWN]:
            t.add_row(it["path"], it["error"])
        console.print(t)
        if len(errors) > SHOWN:
            console.print(f"... and {len(errors) - SHOWN:,} more (all in --json, --csv and --html)")

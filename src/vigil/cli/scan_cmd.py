"""`vigil scan PATH --case NAME [--json FILE] [--csv FILE] [--html FILE] [--threshold N] ...`.

Names on the terminal are data: printed as Rich `Text` (never markup), with control characters shown
as escapes, and long paths folded between components (the files written carry every name in full)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vigil.cli.options import DB, prepare_images, progress_bar
from vigil.errors import VigilError


def scan(
    path: Path = typer.Argument(..., help="Evidence folder (or one file)."),
    case: str = typer.Option(
        ..., "--case", help="Case name; an existing case is replaced only with --replace (or --resume)."
    ),
    json_out: Path = typer.Option(None, "--json", help="Write the case result as JSON to FILE."),
    threshold: int = typer.Option(31, "--threshold", help="PDQ match distance, 0-63 bits (default 31)."),
    workers: int = typer.Option(
        0, "--workers", help="Worker processes, 1 to 4 per core (default 0: one per core)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Carry on an interrupted scan of the case: only what is not yet recorded."
    ),
    dask: str = typer.Option(
        None, "--dask", help="Run on a Dask cluster (scheduler ADDRESS); workers read PATH at the same path."
    ),
    csv_out: Path = typer.Option(None, "--csv", help="Write one row per item as CSV to FILE."),
    html_out: Path = typer.Option(
        None, "--html", help="Write a self-contained HTML report (thumbnails blurred in their pixels)."
    ),
    html_clear_thumbnails: bool = typer.Option(
        False,
        "--html-clear-thumbnails",
        help="Embed clear thumbnails in the HTML report (blurred on screen until clicked); the file then "
        "holds the pictures.",
    ),
    allow_no_sets: bool = typer.Option(
        False, "--allow-no-sets", help="Scan even with no enabled hash set (it only hashes and groups)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Replace an existing case of that name (otherwise the scan refuses)."
    ),
    examiner: str = typer.Option(None, "--examiner", help="Examiner's name, recorded with the case."),
    reference: str = typer.Option(None, "--reference", help="Case reference, recorded with the case."),
    db: str = DB,
) -> None:
    """Hash every file (archives, disk images, videos, hidden images included), match against the hash
    sets, group duplicates. Progress is recorded as it goes: after an interruption, --resume."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    from vigil.cli.options import open_database
    from vigil.scan.locations import encodable
    from vigil.scan.pipeline import default_workers, run_scan
    from vigil.scan.walk import describe

    if not 0 <= threshold <= 63:  # the exact index probes up to 3 bits per 16-bit chunk
        raise VigilError(f"--threshold must be 0-63, got {threshold}")
    for option, text in (("--case", case), ("--examiner", examiner), ("--reference", reference)):
        if text is not None and encodable(text) != text:
            raise VigilError(f"{option} {encodable(text)!r}: not valid UTF-8 text")
    cores = default_workers()
    if not 0 <= workers <= cores * WORKERS_PER_CORE:
        raise VigilError(
            f"--workers must be 0 (one per core) to {cores * WORKERS_PER_CORE} "
            f"({WORKERS_PER_CORE} per core on {cores} cores), got {workers}"
        )
    if not path.exists():
        if path.is_symlink():  # a dangling link or a loop: say which, never "no such file"
            raise VigilError(f"{path}: {describe(str(path))}; give the folder or file itself")
        raise VigilError(f"{path}: no such file or folder")
    for option, out in (("--json", json_out), ("--csv", csv_out), ("--html", html_out)):
        if out is not None and out.is_dir():
            raise VigilError(f"{option} {out}: is a folder; give a file path")
    database = open_database(db, create=False)
    prepare_images()  # thumbnails for --html are made in this process
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with progress_bar(*columns) as bar:
        task = bar.add_task("hashing", total=None)
        result = run_scan(
            database,
            path,
            case,
            threshold,
            workers or None,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            stage=lambda name: bar.update(task, description=name),
            resume=resume,
            dask=dask,
            allow_no_sets=allow_no_sets,
            examiner=examiner,
            reference=reference,
            replace=replace,
        )
        bar.update(task, description="writing")
        streamed = {**result.head(), "items": result.reports}  # each output reads the items again
        shown = result.selection()
        write_outputs(streamed, path, json_out, csv_out, html_out, html_clear_thumbnails, shown)
    print_summary(_console(Console), shown)


def _console(console_class):
    """A Rich console whose broken pipe (`vigil scan … | head`) is the BrokenPipeError cli.main handles
    (a quiet exit), not Rich's own exit status 1."""

    class _Console(console_class):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console()


WORKERS_PER_CORE = 4  # more only queue for the cores (and each holds a file in memory)
SHOWN = 50  # rows of each table on the terminal; the files written have them all


def write_json(report: dict, fh) -> None:
    """The case JSON, one item per line: readable, diffable, written by the C encoder (an indented
    dump of 20,000 items takes seconds in the pure-Python one) and streamed (`items` may be a
    callable that gives them, read once)."""
    head = {k: v for k, v in report.items() if k != "items"}
    fh.write(json.dumps(head, indent=1)[:-2] + ',\n "items": [')
    separator = "\n"
    for it in items_of(report):
        fh.write(separator + json.dumps(it, ensure_ascii=False))
        separator = ",\n"
    fh.write("\n ]\n}\n")


def items_of(report: dict):
    """The report's items: a list, or a callable that streams them (a large case from the store)."""
    items = report["items"]
    return items() if callable(items) else items


def write_outputs(
    report: dict, evidence: Path, json_out, csv_out, html_out, clear_thumbnails: bool = False, shown=None
) -> None:
    """The case files asked for; JSON and CSV have every item of `report` (streamed), the HTML report
    the bounded selection `shown` (by default `report` itself)."""
    from vigil.scan.reporting import html_report, write_csv

    outputs = (
        ("--json", json_out, lambda fh: write_json(report, fh)),
        ("--csv", csv_out, lambda fh: write_csv({**report, "items": items_of(report)}, fh)),
        ("--html", html_out, lambda fh: fh.write(html_report(shown or report, evidence, clear_thumbnails))),
    )
    for option, out, write in outputs:
        if out is None:
            continue
        try:
            with open(out, "w", encoding="utf-8", newline="") as fh:
                write(fh)
        except OSError as exc:
            raise VigilError(f"{option} {out}: cannot write: {exc.strerror}") from None


def print_summary(console, report: dict) -> None:
    """The summary table, then the hits, the files that could not be read and the entries skipped:
    each path on its own lines (folded between components, never inside a name that fits), what was
    found about it on the next."""
    from rich.table import Table
    from rich.text import Text

    from vigil.safetext import visible
    from vigil.scan.hashing import not_valid

    summary = report["summary"]
    table = Table(title=Text(f"case {visible(report['case'])}"), box=None, show_header=False)
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)
    scan = report.get("scan") or {}
    if scan and not any(not s["known"] for s in scan.get("hashsets", [])):
        console.print(
            Text("no hash set was searched (--allow-no-sets): files were hashed and grouped, not matched")
        )
    totals = report.get("totals") or {}  # a selection of a large case says how many there are
    hits = [it for it in report["items"] if it["matches"]]
    _listing(console, "known material", "closest match shown", hits, _match_line, totals.get("hits"))
    errors = [it for it in report["items"] if it["error"]]
    _listing(
        console, "could not be read", None, errors, lambda it: visible(it["error"]), totals.get("errors")
    )
    invalid = [it for it in report["items"] if not_valid(it["flags"])]
    why = "read and hashed: not what their first bytes say"
    _listing(console, "not valid", why, invalid, _invalid_line, totals.get("invalid"))
    skipped = report.get("skipped") or []
    _listing(console, "not examined (skipped)", None, skipped, lambda it: visible(it["reason"]))


def _invalid_line(it: dict) -> str:
    from vigil.scan.hashing import NOT_VALID

    return ", ".join(f for f in it["flags"] if f.startswith(NOT_VALID))


def _match_line(it: dict) -> str:
    from vigil.safetext import visible

    m = it["matches"][0]
    more = len(it["matches"]) - 1
    parts = [visible(m["hashset"]), m["signal"], f"distance {m['distance']}", visible(m["category"] or "")]
    line = ", ".join(p for p in parts if p)
    return line + (f" (+{more} more matches: other sets or signals)" if more else "")


def _listing(
    console, title: str, note: str | None, rows: list[dict], detail, total: int | None = None
) -> None:
    from rich.padding import Padding
    from rich.text import Text

    from vigil.scan.locations import fold, shown

    if not rows:
        return
    total = len(rows) if total is None else total
    what = f"{total:,} " + ("entry" if total == 1 else "entries")
    head = f"{title}: {what}" + (f" ({note})" if note else "")
    console.print(Text(head, style="bold"))
    for it in rows[:SHOWN]:
        for line in fold(shown(it["path"]), console.width - 2):
            console.print(Text("  " + line), overflow="fold", no_wrap=True, crop=False)
        console.print(Padding(Text(detail(it), overflow="fold"), (0, 0, 0, 6), expand=False))
    if total > SHOWN:
        console.print(Text(f"... and {total - SHOWN:,} more (all in --json and --csv)"))

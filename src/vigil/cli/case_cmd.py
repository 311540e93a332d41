"""`vigil case export NAME --format vics [--output FILE]`: hand a case's findings to another tool."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from vigil.cli.options import DB
from vigil.errors import NotFoundError, VigilError

app = typer.Typer(help="Cases (scan results): export.", no_args_is_help=True)


@app.command("export")
def export(
    name: str = typer.Argument(..., help="Case name, as given to vigil scan --case."),
    fmt: str = typer.Option("vics", "--format", help="vics: a VICS v2 #Cases file."),
    output: Path = typer.Option(None, "--output", help="File to write (default: standard output)."),
    db: str = DB,
) -> None:
    """Write a case as VICS #Cases JSON (one Media per MD5, with MediaFiles paths) for Griffeye,
    AXIOM, IPED and other VICS tools. Each MediaFile's FilePath is the containers and folders the
    file is in (`a.zip!photos`), FileName its real name, VigilLocation the case JSON's `location`.
    The case object also carries `VigilScan`: what the case was
    searched with (Vigil version, times, hash sets with version and file SHA-256, thresholds, options,
    examiner, reference) and `VigilSkipped`, the entries not examined."""
    import io
    import json

    from vigil.cli.options import open_database
    from vigil.hashsets.writers import write_vics_case
    from vigil.scan.locations import folder_and_name, location
    from vigil.store.cases import CaseRepository

    if fmt != "vics":
        raise VigilError(f"--format must be vics, got {fmt!r}")
    case = CaseRepository(open_database(db, create=False)).load(name)
    if case is None:
        raise NotFoundError(f"no case named {name!r}")
    for item in case["items"]:  # FilePath: the containers and folders; FileName: the real name
        item["location"] = location(item["path"])
        item["file_path"], item["file_name"] = folder_and_name(item["path"])
    buf = io.StringIO()
    write_vics_case(case["case"], case["source"], case["items"], buf)
    doc = json.loads(buf.getvalue())
    scan = case.get("scan") or {}
    for entry in doc.get("value", []):
        if scan.get("vigil_version"):
            entry["SourceApplicationVersion"] = scan["vigil_version"]
        entry["VigilScan"] = scan
        entry["VigilSkipped"] = case.get("skipped") or []
    try:
        out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    except OSError as exc:
        raise VigilError(f"--output {output}: cannot write: {exc.strerror}") from None
    try:
        json.dump(doc, out, indent=1)
        out.write("\n")
    finally:
        if output:
            out.close()

"""`vigil hash FILE... [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vigil.cli.options import JSON, prepare_images
from vigil.errors import VigilError


def hash_files(
    files: list[Path] = typer.Argument(..., help="Files (or folders, walked recursively)."),
    as_json: bool = JSON,
) -> None:
    """Print each file's size, type (from content), md5, sha1, sha256, PDQ and PDQ quality."""
    from vigil.scan.hashing import hash_file
    from vigil.scan.locations import encodable, segment
    from vigil.scan.walk import describe, evidence_files

    # paths as the scan writes them (README, "location"): `\\` doubled, undecodable bytes as `\xHH`
    tasks: list[tuple[str, str]] = []
    for path in files:
        shown = segment(str(path))
        if path.is_dir():
            prefix = shown.rstrip("/") + "/"
            tasks.extend((fs, prefix + logical) for fs, logical in evidence_files(path))
        elif path.is_file():
            tasks.append((str(path), shown))
        elif path.exists() or path.is_symlink():  # a pipe, socket, device, dangling link or loop
            raise VigilError(f"{encodable(str(path))}: not a regular file: {describe(str(path))}")
        else:
            raise VigilError(f"{encodable(str(path))}: no such file")
    prepare_images()
    rows = [item.hashes() for fs, logical in tasks for item in hash_file(fs, logical, expand=False)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from vigil.safetext import visible

    # one block per file: hashes are never cut to fit a narrow terminal; paths keep their own escapes
    # (`\\`, `\!`, `\xHH`) and control characters in them are shown escaped, never sent raw
    lines = []
    for r in rows:
        lines.append(f"{visible(r['path'], backslash=False)}  ({r['type']}, {r['size']:,} bytes)")
        lines.extend(f"  {name:<7}{r[name]}" for name in ("md5", "sha1", "sha256") if r[name])
        if r["pdq"]:
            lines.append(f"  {'pdq':<7}{r['pdq']}  quality {r['pdq_quality']}")
    typer.echo("\n".join(lines))

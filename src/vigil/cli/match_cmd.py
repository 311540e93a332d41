"""`vigil match HASH... | --file FILE [--threshold N] [--json]`: look hashes up in the hash sets."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vigil.cli.options import DB, JSON
from vigil.errors import VigilError


def _queries(hashes: list[str], file: Path | None) -> list[tuple[str, str]]:
    """(query as given, where it came from) for the arguments and each non-blank line of FILE."""
    out = [(h, f"argument {n}") for n, h in enumerate(hashes, start=1)]
    if file is not None:
        try:
            with open(file, encoding="utf-8") as fh:
                for number, line in enumerate(fh, start=1):
                    if line.strip() and not line.lstrip().startswith("#"):
                        out.append((line.strip().split(",")[0].strip(), f"{file}:{number}"))
        except (OSError, UnicodeDecodeError) as exc:
            raise VigilError(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if not out:
        raise VigilError("give hashes as arguments or --file FILE")
    return out


def match(
    hashes: list[str] = typer.Argument(None, help="PDQ, md5, sha1 or sha256 hex values."),
    file: Path = typer.Option(None, "--file", help="Read hashes from FILE, one per line."),
    threshold: int = typer.Option(31, "--threshold", help="PDQ match distance, 0-63 bits."),
    as_json: bool = JSON,
    db: str = DB,
) -> None:
    """Match hashes against the hash sets: exact for md5/sha1/sha256, near (PDQ) within --threshold.

    64 hex digits are looked up both as SHA-256 and as PDQ. With --json, one JSON object per query
    and line: {"query", "matches": [{"hashset", "signal", "distance", "category"}]}.
    """
    from vigil.scan.lookup import match_hashes
    from vigil.store import open_database

    if not 0 <= threshold <= 63:
        raise VigilError(f"--threshold must be 0-63, got {threshold}")
    results = match_hashes(open_database(db, create=False), _queries(hashes or [], file), threshold)
    if as_json:
        typer.echo("\n".join(json.dumps(r) for r in results))
        return
    from vigil.safetext import visible

    for r in results:  # set names are the publisher's text: shown escaped
        if not r["matches"]:
            typer.echo(f"{visible(r['query'])}  no match")
        for m in r["matches"]:
            typer.echo(
                f"{visible(r['query'])}  {visible(m['hashset'])}  {m['signal']}  distance {m['distance']}  "
                f"{visible(m['category'] or '')}".rstrip()
            )

"""`vigil match HASH... | --file FILE [--threshold N] [--json]`: look hashes up in the hash sets."""

from __future__ import annotations

import json
import sys
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


def _json_line(result: dict) -> str:
    """One result as a JSON line; the hash is checked hex, so only the matches (publishers' text)
    go through the JSON encoder. `query` is the old name of `hash`, kept for scripts."""
    matches = json.dumps(result["matches"]) if result["matches"] else "[]"
    return f'{{"hash": "{result["hash"]}", "query": "{result["hash"]}", "matches": {matches}}}\n'


def match(
    hashes: list[str] = typer.Argument(None, help="PDQ, md5, sha1 or sha256 hex values."),
    file: Path = typer.Option(None, "--file", help="Read hashes from FILE, one per line."),
    threshold: int = typer.Option(
        None, "--threshold", help="PDQ match distance, 0-63 bits (default 31).", show_default=False
    ),
    signal: str = typer.Option(
        None, "--signal", help="All hashes are of this signal (md5, sha1, sha256, pdq)."
    ),
    as_json: bool = JSON,
    db: str = DB,
) -> None:
    """Match hashes against the hash sets: exact for md5/sha1/sha256, near (PDQ) within --threshold.

    64 hex digits are looked up both as SHA-256 and as PDQ unless --signal says which. With --json,
    one JSON object per query and line, as POST /v1/hash-check answers each hash:
    {"hash", "query" (the same; its old name), "matches": [{"hashset", "signal", "distance", "category"}]}.
    """
    from vigil.cli.options import settings
    from vigil.scan.lookup import match_hashes

    current = settings()
    queries = _queries(hashes or [], file)
    results = match_hashes(db or current.db, queries, threshold, signal, current.index_dir)
    if as_json:
        # a hash is hex (checked): only the matches, publishers' text, need the JSON encoder
        sys.stdout.write("".join(_json_line(r) for r in results))
        return
    from vigil.safetext import visible

    lines = []
    for r in results:  # set names are the publisher's text: shown escaped
        if not r["matches"]:
            lines.append(f"{visible(r['hash'])}  no match")
        for m in r["matches"]:
            lines.append(
                f"{visible(r['hash'])}  {visible(m['hashset'])}  {m['signal']}  distance {m['distance']}  "
                f"{visible(m['category'] or '')}".rstrip()
            )
    sys.stdout.write("".join(line + "\n" for line in lines))

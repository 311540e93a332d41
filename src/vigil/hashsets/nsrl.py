"""NIST NSRL Reference Data Sets: known files (operating systems, applications), for elimination.

- RDS v3: an SQLite database with `FILE(sha256, sha1, md5, crc32, file_name, file_size, package_id)`.
  Read-only; each distinct SHA-1 becomes one entry.
- RDS v2: `NSRLFile.txt`, CSV with the header `"SHA-1","MD5","CRC32","FileName",...`, as a file or
  inside its zip. Each line's SHA-1 becomes one entry (the file name goes in the comment).

A hit means *known*, not *good*: NSRL sets are imported as known sets, which a scan counts and skips.
The quarterly v3 delta SQL files are not read yet: import the full release.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

from vigil.errors import InputFormatError
from vigil.hashsets.entry import Entry, EntryBlock

SQLITE_MAGIC = b"SQLite format 3\x00"
V2_HEADER = '"SHA-1","MD5"'
FETCH = 50_000


def looks_like_nsrl(path: Path, head: bytes) -> bool:
    if head.startswith(SQLITE_MAGIC):
        return True
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as z:
                return any(n.rsplit("/", 1)[-1] == "NSRLFile.txt" for n in z.namelist())
        except (zipfile.BadZipFile, OSError):
            return False
    return head.lstrip(b"\xef\xbb\xbf").startswith(V2_HEADER.encode())


def read_nsrl(path: Path, blocks: bool = False, delta: Path | None = None) -> Iterator[Entry | EntryBlock]:
    """Entries (SHA-1) of an NSRL set; with `blocks`, v3 rows come as EntryBlocks of 50,000.

    `delta`: a quarterly delta SQL file (INSERT / UPDATE / DELETE statements against the previous
    release). It is applied to the v3 database inside a transaction that is rolled back after
    reading, so the result is the next release's set and the database file is left as it was.
    A delta needs its base release: the distinct SHA-1s of a release depend on every FILE row."""
    source = str(path)
    with open(path, "rb") as fh:
        head = fh.read(16)
    if delta is not None and not head.startswith(SQLITE_MAGIC):
        raise InputFormatError(source, None, "a delta applies to an RDS v3 SQLite database; this is not one")
    if head.startswith(SQLITE_MAGIC):
        yield from _rds3(path, source, blocks, delta)
    elif head.startswith(b"PK"):
        yield from _rds2_zip(path, source)
    else:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            yield from _rds2(fh, source)


def _sha1(value: object, source: str, where: str) -> bytes:
    text = str(value or "").strip().strip('"')
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        digest = b""
    if len(digest) != 20:
        raise InputFormatError(source, where, f"expected a SHA-1 of 40 hex digits, got {text!r}")
    return digest


def _statements(delta: Path) -> Iterator[tuple[int, str]]:
    """(first line, statement) of an SQL file, split where SQLite says a statement is complete."""
    buffer, start = "", 1
    try:
        with open(delta, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not buffer.strip():
                    buffer, start = "", number
                buffer += line
                if sqlite3.complete_statement(buffer):
                    yield start, buffer
                    buffer = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFormatError(str(delta), None, f"cannot read delta: {exc}") from None
    if _code_lines(buffer):
        raise InputFormatError(str(delta), start, "incomplete SQL statement at the end of the delta")


def _code_lines(statement: str) -> list[str]:
    return [ln for ln in statement.splitlines() if ln.strip() and not ln.lstrip().startswith("--")]


def _apply_delta(conn: sqlite3.Connection, delta: Path) -> None:
    conn.execute("BEGIN")
    for line, statement in _statements(delta):
        code = _code_lines(statement)
        verb = code[0].split(None, 1)[0].upper() if code else ""
        if verb not in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            raise InputFormatError(
                str(delta), line, f"expected INSERT, UPDATE or DELETE, got {verb or 'nothing'}"
            )
        try:
            conn.execute(statement)
        except sqlite3.Error as exc:
            raise InputFormatError(str(delta), line, f"statement failed: {exc}") from None


def _rds3(
    path: Path, source: str, blocks: bool = False, delta: Path | None = None
) -> Iterator[Entry | EntryBlock]:
    try:
        if delta is None:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        else:  # writes go to the rollback journal only, and are rolled back below
            conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise InputFormatError(source, None, f"cannot open NSRL database: {exc}") from None
    try:
        tables = {r[0].upper() for r in conn.execute("select name from sqlite_master")}
        if "FILE" not in tables:
            raise InputFormatError(source, None, "not an NSRL RDS v3 database: no FILE table")
        if delta is not None:
            _apply_delta(conn, delta)
        cursor = conn.execute("select min(rowid), sha1 from FILE group by sha1")
        while rows := cursor.fetchmany(FETCH):
            if blocks:
                try:
                    values = bytes.fromhex("".join(sha1 for _, sha1 in rows))
                except (TypeError, ValueError):
                    values = b""
                if len(values) == 20 * len(rows):
                    yield EntryBlock("sha1", None, values, rows[0][0])
                    continue
            for rowid, sha1 in rows:  # a bad row somewhere: find it and name it
                yield Entry("sha1", _sha1(sha1, source, f"FILE row {rowid}"), ref=str(rowid))
    except sqlite3.Error as exc:
        raise InputFormatError(source, None, f"cannot read NSRL database: {exc}") from None
    finally:
        if conn.in_transaction:
            conn.rollback()
        conn.close()


def _rds2_zip(path: Path, source: str) -> Iterator[Entry]:
    try:
        with zipfile.ZipFile(path) as z:
            name = next((n for n in z.namelist() if n.rsplit("/", 1)[-1] == "NSRLFile.txt"), None)
            if name is None:
                raise InputFormatError(source, None, "zip holds no NSRLFile.txt")
            with z.open(name) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
                yield from _rds2(text, f"{source}!{name}")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputFormatError(source, None, f"cannot read zip: {exc}") from None


def _rds2(lines, source: str) -> Iterator[Entry]:
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None or [h.strip().upper() for h in header[:2]] != ["SHA-1", "MD5"]:
            raise InputFormatError(source, 1, f"expected the RDS v2 header {V2_HEADER},... got {header!r}")
        for row in reader:
            if not row:
                continue
            line = reader.line_num
            yield Entry(
                "sha1", _sha1(row[0], source, line), comment=row[3] if len(row) > 3 else None, ref=str(line)
            )
    except csv.Error as exc:
        raise InputFormatError(source, reader.line_num, f"malformed CSV: {exc}") from None

"""Plain text / CSV hash lists: one MD5, SHA-1, SHA-256 or PDQ hex per line, optional columns.

Accepted: blank lines and `#` comments; comma, tab or semicolon separated columns; an optional header
line naming the columns (`md5`, `sha1`, `sha256`, `pdq` or `hash`, then `category`, `series`,
`comment`, `quality`). Without a header the first column is the hash and its length says which
signal it is; 64 hex digits are SHA-256 unless the header, `signal=` or a file name containing "pdq"
says PDQ (Meta's tools write PDQ lists as `hash[,metadata...]`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from vigil.classify import normalise_label
from vigil.errors import InputFormatError, VigilError
from vigil.hashsets.entry import Entry
from vigil.signals import SIGNALS, guess_signal

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HASH_COLUMNS = {*SIGNALS, "hash"}
_KNOWN_COLUMNS = {
    *_HASH_COLUMNS,
    "signal",
    "category",
    "series",
    "comment",
    "extra",
    "quality",
    "name",
    "filename",
}


def _split(line: str) -> list[str]:
    for sep in (",", "\t", ";"):
        if sep in line:
            return [c.strip() for c in next(csv.reader([line], delimiter=sep))]
    return [line.strip()]


def read_text(path: Path, signal: str | None = None, category: str | None = None) -> Iterator[Entry]:
    source = str(path)
    if signal is None and "pdq" in Path(path).name.lower():
        signal = "pdq"
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise VigilError(f"{source}: cannot read: {exc.strerror}") from None
    default = normalise_label(category) if category else None
    bare_signal: dict[int, str] = {}  # hex length -> signal name, for lines that are just a hash
    with fh:
        columns: list[str] | None = None
        try:
            for number, raw in enumerate(fh, start=1):
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                # fast path: a line that is only a hash (most lists, and every 10M-line one)
                if (columns is None or len(columns) == 1) and len(line) in (32, 40, 64):
                    try:
                        value = bytes.fromhex(line)
                    except ValueError:
                        value = b""
                    if len(value) * 2 == len(line):  # hex digits only: fromhex skips no spaces here
                        name = bare_signal.get(len(line))
                        if name is None:
                            hint = signal if columns is None or columns[0] == "hash" else columns[0]
                            name = bare_signal[len(line)] = _signal_name(source, number, line, hint)
                        yield Entry(name, value, default, None, None, str(number))
                        continue
                cells = _split(line)
                first = cells[0].strip('"').lower()
                if columns is None and not _HEX.match(first):
                    names = [c.strip('"').lower() for c in cells]
                    if names[0] in _KNOWN_COLUMNS and any(n in _HASH_COLUMNS for n in names):
                        columns = names
                        continue
                yield _entry(source, number, cells, columns, signal, category)
        except UnicodeDecodeError:
            raise InputFormatError(source, None, "not a text file (invalid UTF-8)") from None


def _signal_name(source: str, number: int, value: str, hint: str | None) -> str:
    try:
        sig = guess_signal(value, hint)
        sig.parse(value)
    except VigilError as exc:
        raise InputFormatError(source, number, str(exc)) from None
    return sig.name


def _entry(source, number, cells, columns, signal, category) -> Entry:
    row = dict(zip(columns, cells, strict=False)) if columns else {"hash": cells[0]}
    hash_column = next((c for c in (columns or ["hash"]) if c in _HASH_COLUMNS), None)
    value = row.get(hash_column, "").strip('"') if hash_column else ""
    hint = signal if hash_column in (None, "hash") else hash_column
    if row.get("signal"):  # Vigil's own export names the signal of every line
        hint = row["signal"].strip().lower()
    if not value or not _HEX.match(value):
        raise InputFormatError(
            source, number, f"expected a hex hash (md5, sha1, sha256 or pdq), got {value!r}"
        )
    name = _signal_name(source, number, value, hint)
    label = row.get("category") or category
    return Entry(
        signal=name,
        value=bytes.fromhex(value),
        category=normalise_label(label) if label else None,
        series=row.get("series") or None,
        comment=row.get("comment") or None,
        ref=str(number),
        extra=row.get("extra") or None,
    )

"""Plain text / CSV hash lists: one MD5, SHA-1, SHA-256 or PDQ hex per line, optional columns.

Accepted: blank lines and `#` comments; comma, tab or semicolon separated columns; an optional header
line naming the columns (`md5`, `sha1`, `sha256`, `pdq` or `hash`, then `category`, `series`,
`comment`, `quality`). Without a header the first column is the hash and its length says which
signal it is; 64 hex digits are SHA-256 unless the header, `signal=` or a file name containing "pdq"
says PDQ (Meta's tools write PDQ lists as `hash[,metadata...]`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from vigil.classify import normalise_label
from vigil.errors import InputFormatError, VigilError
from vigil.hashsets.entry import Entry, EntryBlock
from vigil.signals import all_signals, either, guess_signal

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_OTHER_COLUMNS = {
    "signal",
    "category",
    "series",
    "comment",
    "extra",
    "quality",
    "name",
    "filename",
}


def _hash_columns() -> set[str]:
    """Header names of hash columns: each registered signal's text column, and `hash`."""
    return {*(s.text_column() for s in all_signals() if s.width), "hash"}


def _named_by(file_name: str) -> str | None:
    """A signal that a bare hash's length cannot tell (PDQ: 64 digits, like SHA-256) named in the
    file name (`known-pdq.txt`), as Meta's tools name PDQ lists."""
    return next(
        (s.name for s in all_signals() if s.width and not s.guess_by_length and s.name in file_name), None
    )


def _bare_lengths() -> frozenset[int]:
    """Hex lengths a line can be a bare hash of (32, 40, 64, and any registered signal's)."""
    return frozenset(s.hex_length for s in all_signals() if s.width)


def _split(line: str) -> list[str]:
    for sep in (",", "\t", ";"):
        if sep in line:
            return [c.strip() for c in next(csv.reader([line], delimiter=sep))]
    return [line.strip()]


class _Lines:
    """The per-line reading rules, shared by the line-by-line and the block readers."""

    def __init__(self, path: Path, signal: str | None, category: str | None):
        self.source = str(path)
        self.signal = signal if signal is not None else _named_by(Path(path).name.lower())
        self.default = normalise_label(category) if category else None
        self.category = category
        self.bare_signal: dict[int, str] = {}  # hex length -> signal name, for lines that are a hash
        self.columns: list[str] | None = None
        self.hash_columns = _hash_columns()
        self.known_columns = self.hash_columns | _OTHER_COLUMNS
        self.lengths = _bare_lengths()

    @property
    def bare(self) -> bool:
        """Can a line be just a hash? (no header, or a header naming one hash column)"""
        return self.columns is None or len(self.columns) == 1

    def bare_name(self, number: int, line: str) -> str:
        name = self.bare_signal.get(len(line))
        if name is None:
            hint = self.signal if self.columns is None or self.columns[0] == "hash" else self.columns[0]
            name = self.bare_signal[len(line)] = _signal_name(self.source, number, line, hint)
        return name

    def entry(self, number: int, raw: str) -> Entry | None:
        line = raw.strip()
        if not line or line.startswith("#"):
            return None
        # fast path: a line that is only a hash (most lists, and every 10M-line one)
        if self.bare and len(line) in self.lengths:
            try:
                value = bytes.fromhex(line)
            except ValueError:
                value = b""
            if len(value) * 2 == len(line):  # hex digits only: fromhex skips no spaces here
                return Entry(self.bare_name(number, line), value, self.default, None, None, str(number))
        cells = _split(line)
        first = cells[0].strip('"').lower()
        if self.columns is None and not _HEX.match(first):
            names = [c.strip('"').lower() for c in cells]
            if names[0] in self.known_columns and any(n in self.hash_columns for n in names):
                self.columns = names
                return None
        return _entry(self.source, number, cells, self.columns, self.signal, self.category, self.hash_columns)


def read_text(path: Path, signal: str | None = None, category: str | None = None) -> Iterator[Entry]:
    rules = _Lines(path, signal, category)
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise VigilError(f"{rules.source}: cannot read: {exc.strerror}") from None
    with fh:
        try:
            for number, raw in enumerate(fh, start=1):
                entry = rules.entry(number, raw)
                if entry is not None:
                    yield entry
        except UnicodeDecodeError:
            raise InputFormatError(rules.source, None, "not a text file (invalid UTF-8)") from None


BLOCK_BYTES = 1 << 20


def read_text_blocks(
    path: Path, signal: str | None = None, category: str | None = None
) -> Iterator[Entry | EntryBlock]:
    """Like read_text, but runs of lines that are all bare hashes of one length come as one
    EntryBlock (their bytes concatenated), checked and decoded in a few C calls per megabyte:
    what makes a 10-million-line list import at database speed. Anything else in a chunk (a
    header, comments, columns, a bad line) goes through the line rules, with the same errors."""
    rules = _Lines(path, signal, category)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise VigilError(f"{rules.source}: cannot read: {exc.strerror}") from None
    with fh:
        number, tail = 0, b""
        first = True
        while True:
            data = fh.read(BLOCK_BYTES)
            if first:
                data, first = data.removeprefix(b"\xef\xbb\xbf"), False
            chunk = tail + data
            if data:
                # cut after the last line break; a lone \r only when no \n is there, and never
                # between the \r and \n of one CRLF
                cut = chunk.rfind(b"\n") + 1 or chunk.rfind(b"\r", 0, len(chunk) - 1) + 1
                chunk, tail = (chunk[:cut], chunk[cut:]) if cut else (b"", chunk)
            else:
                tail = b""
            if chunk:
                yield from _chunk(rules, chunk, number + 1)
                number += _line_count(chunk)
            if not data:
                return


def _only_newlines(chunk: bytes) -> bool:
    """Lines end in \\n or \\r\\n only (no old-Mac lone \\r): then splitting on \\n counts them."""
    return chunk.count(b"\r") == chunk.count(b"\r\n")


def _line_count(chunk: bytes) -> int:
    if _only_newlines(chunk):
        return chunk.count(b"\n") + (not chunk.endswith(b"\n"))
    return sum(1 for _ in io.StringIO(chunk.decode("latin-1"), newline=""))


def _chunk(rules: _Lines, chunk: bytes, first_number: int) -> Iterator[Entry | EntryBlock]:
    lines = chunk.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    stripped = [line.strip() for line in lines]
    widths = set(map(len, stripped))
    if rules.bare and len(widths) == 1 and (width := widths.pop()) in rules.lengths and _only_newlines(chunk):
        try:
            values = bytes.fromhex(b"".join(stripped).decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            values = b""
        if len(values) * 2 == width * len(stripped):
            name = rules.bare_name(first_number, stripped[0].decode("ascii"))
            yield EntryBlock(name, rules.default, values, first_number)
            return
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFormatError(rules.source, None, "not a text file (invalid UTF-8)") from None
    for number, raw in enumerate(io.StringIO(text, newline=""), start=first_number):
        entry = rules.entry(number, raw)
        if entry is not None:
            yield entry


def _signal_name(source: str, number: int, value: str, hint: str | None) -> str:
    try:
        sig = guess_signal(value, hint)
        sig.parse(value)
    except VigilError as exc:
        raise InputFormatError(source, number, str(exc)) from None
    return sig.name


def _entry(source, number, cells, columns, signal, category, hash_columns) -> Entry:
    row = dict(zip(columns, cells, strict=False)) if columns else {"hash": cells[0]}
    hash_column = next((c for c in (columns or ["hash"]) if c in hash_columns), None)
    value = row.get(hash_column, "").strip('"') if hash_column else ""
    hint = signal if hash_column in (None, "hash") else hash_column
    if row.get("signal"):  # Vigil's own export names the signal of every line
        hint = row["signal"].strip().lower()
    if not value or not _HEX.match(value):
        raise InputFormatError(
            source,
            number,
            f"expected a hex hash ({either(s.name for s in all_signals() if s.width)}), got {value!r}",
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

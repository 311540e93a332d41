"""Hash-list interchange formats: one module per format, each a streaming reader of `Entry` values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vigil.errors import VigilError
from vigil.hashsets.entry import Entry
from vigil.hashsets.text import read_text
from vigil.hashsets.vics import read_vics

FORMATS = ("auto", "vics", "text")


def detect_format(path: Path) -> str:
    """'vics' for a JSON document, else 'text' (one hash per line, optional columns)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise VigilError(f"{path}: cannot read: {exc.strerror}") from None
    return "vics" if head.startswith((b"{", b"[")) else "text"


def read_entries(path: Path, fmt: str = "auto", **options) -> Iterator[Entry]:
    """Entries of a hash-list file, streamed; raises InputFormatError at the first bad line."""
    if fmt not in FORMATS:
        raise VigilError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "vics":
        return read_vics(path, scheme=options.get("scheme", "us"))
    return read_text(path, signal=options.get("signal"), category=options.get("category"))


__all__ = ["Entry", "FORMATS", "detect_format", "read_entries", "read_text", "read_vics"]

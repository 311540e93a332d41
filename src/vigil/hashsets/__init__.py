"""Hash-list interchange formats: one module per format, each a streaming reader of `Entry` values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vigil.errors import VigilError
from vigil.hashsets.entry import Entry, EntryBlock
from vigil.hashsets.nsrl import looks_like_nsrl, read_nsrl
from vigil.hashsets.text import read_text, read_text_blocks
from vigil.hashsets.vics import read_vics
from vigil.hashsets.vpdq import read_vpdq

FORMATS = ("auto", "vics", "nsrl", "text", "pdq", "vpdq")
KNOWN_BY_DEFAULT = frozenset({"nsrl"})  # formats whose sets are known-good unless told otherwise


def detect_format(path: Path) -> str:
    """From the content: 'nsrl' (RDS v3 SQLite, v2 CSV or its zip), 'vics' (JSON), 'vpdq' (a folder,
    or frame,quality,pdq,timestamp lines), else 'text'."""
    if path.is_dir():
        return "vpdq"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(4096)
    except OSError as exc:
        raise VigilError(f"{path}: cannot read: {exc.strerror}") from None
    if looks_like_nsrl(path, raw):
        return "nsrl"
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return "vics"
    first = head.split(b"\n", 1)[0].strip().split(b",")
    if len(first) == 4 and len(first[2]) == 64 and first[0].isdigit():
        return "vpdq"
    return "text"


def read_entries(path: Path, fmt: str = "auto", blocks: bool = False, **options) -> Iterator[Entry]:
    """Entries of a hash-list file, streamed; raises InputFormatError at the first bad line.

    With `blocks=True`, text lists may also yield EntryBlock values (runs of bare hashes), which an
    importer stores in bulk."""
    if fmt not in FORMATS:
        raise VigilError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "vics":
        return read_vics(path, scheme=options.get("scheme", "us"))
    if fmt == "nsrl":
        return read_nsrl(path, blocks=blocks, delta=options.get("delta"))
    if fmt == "vpdq":
        return read_vpdq(path, category=options.get("category"))
    if options.get("delta") is not None:
        raise VigilError("--nsrl-delta applies to an NSRL RDS v3 database (--format nsrl)")
    text = read_text_blocks if blocks else read_text
    if fmt == "pdq":  # Meta's PDQ lists: one hash per line, optional comma-separated metadata
        return text(path, signal="pdq", category=options.get("category"))
    return text(path, signal=options.get("signal"), category=options.get("category"))


__all__ = [
    "Entry",
    "EntryBlock",
    "FORMATS",
    "KNOWN_BY_DEFAULT",
    "detect_format",
    "read_entries",
    "read_nsrl",
    "read_text",
    "read_vics",
]

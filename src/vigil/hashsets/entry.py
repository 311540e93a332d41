"""One hash in a hash list, with the opinion its source attached to it.

A NamedTuple rather than a dataclass: imports create millions of them, and a tuple is the cheapest
object Python makes (and goes straight into the database driver).
"""

from __future__ import annotations

from typing import NamedTuple

from vigil.signals import get_signal


class Entry(NamedTuple):
    signal: str  # a registered vigil.signals name (md5, sha1, sha256, pdq, vpdq, ...)
    value: bytes  # canonical bytes (hex-decoded)
    category: str | None = None  # a vigil.classify label; None: the hash set's default
    series: str | None = None
    comment: str | None = None
    ref: str | None = None  # where it came from in the file: line number or VICS MediaID
    extra: str | None = None  # JSON of format data kept for export (VICS video Segments)


class EntryBlock(NamedTuple):
    """Many entries of one signal and category with nothing else to say: their values, concatenated.
    Readers yield these for runs of bare hashes, so a 10M-line list costs a few C calls per megabyte."""

    signal: str
    category: str | None
    values: bytes  # len(values) // width entries
    first_line: int

    def entries(self) -> list[Entry]:
        w = get_signal(self.signal).width
        return [
            Entry(self.signal, self.values[i : i + w], self.category, None, None, str(self.first_line + n))
            for n, i in enumerate(range(0, len(self.values), w))
        ]

"""One hash in a hash list, with the opinion its source attached to it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    signal: str  # a vigil.signals name: md5, sha1, sha256, pdq
    value: bytes  # canonical bytes (hex-decoded)
    category: str | None = None  # a vigil.classify label; None: the hash set's default
    series: str | None = None
    comment: str | None = None
    ref: str | None = None  # where it came from in the file: line number or VICS MediaID

"""The one small interface every signal type (hash algorithm) implements.

Borrowed from Meta's python-threatexchange and thorn's perception: metadata is declared as class
attributes, the `name` is a stable storage key, and every type ships example values that feed the
shared conformance test (tests/signals/test_conformance.py).
"""

from __future__ import annotations

from typing import ClassVar

from vigil.errors import VigilError


class SignalType:
    """A hash algorithm: how its values look, how two values compare, what counts as a match."""

    name: ClassVar[str]  # stable key, stored in databases and exchanged with other tools
    hex_length: ClassVar[int]  # length of the canonical lower-case hex form
    metric: ClassVar[str]  # "equality" or "hamming"
    default_threshold: ClassVar[int] = 0  # largest distance that still counts as a match
    # (input, expected hex) pairs; input is bytes for cryptographic signals
    examples: ClassVar[tuple[tuple[object, str], ...]] = ()

    @classmethod
    def parse(cls, text: str) -> bytes:
        """Canonical bytes from a hex string; raises VigilError naming what was expected."""
        value = text.strip().lower()
        if len(value) != cls.hex_length:
            raise VigilError(f"{cls.name} must be {cls.hex_length} hex digits, got {len(value)} characters")
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise VigilError(f"{cls.name} must be hex digits 0-9a-f, got {text.strip()!r}") from None

    @classmethod
    def format(cls, value: bytes) -> str:
        return value.hex()

    @classmethod
    def distance(cls, a: bytes, b: bytes) -> int:
        """0 for equal values; for hamming signals the number of differing bits."""
        if cls.metric == "hamming":
            return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()
        return 0 if a == b else cls.hex_length * 4

    @classmethod
    def matches(cls, a: bytes, b: bytes, threshold: int | None = None) -> bool:
        limit = cls.default_threshold if threshold is None else threshold
        return cls.distance(a, b) <= limit

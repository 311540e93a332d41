"""The index interfaces."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol


class NearMatch(NamedTuple):
    id: int  # the id the caller gave the indexed hash (e.g. a store row id)
    distance: int


class NearIndex(Protocol):
    """Every indexed 256-bit hash within `threshold` bits of each query: exact results, no misses."""

    def __len__(self) -> int: ...

    def search(self, queries: Sequence[bytes], threshold: int) -> list[list[NearMatch]]: ...


class ExactIndex(Protocol):
    """Entry ids for each value of one signal that is present."""

    def lookup(self, signal: str, values: Iterable[bytes]) -> dict[bytes, list[int]]: ...

"""The index interfaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol


class NearMatch(NamedTuple):
    id: int  # the id the caller gave the indexed hash (e.g. a store row id)
    distance: int


class NearIndex(Protocol):
    """Every indexed 256-bit hash within `threshold` bits of each query: exact results, no misses."""

    def __len__(self) -> int: ...

    def search(self, queries: Sequence[bytes], threshold: int) -> list[list[NearMatch]]: ...


class ExactIndex(Protocol):
    """For each of `values` (one signal) that is present: its category."""

    def lookup(self, signal: str, values: list[bytes]) -> dict[bytes, str | None]: ...


def search_dihedral(
    index: NearIndex, variants: Sequence[Sequence[bytes]], threshold: int
) -> list[list[NearMatch]]:
    """For each image (its 8 PDQ variants), every id within threshold of any variant, at the smallest
    distance, closest first: rotated and mirrored copies found in one batched call."""
    flat = [v for group in variants for v in group]
    hits = index.search(flat, threshold)
    out, at = [], 0
    for group in variants:
        best: dict[int, int] = {}
        for matches in hits[at : at + len(group)]:
            for m in matches:
                best[m.id] = min(m.distance, best.get(m.id, 256))
        out.append([NearMatch(i, d) for i, d in sorted(best.items(), key=lambda kv: (kv[1], kv[0]))])
        at += len(group)
    return out

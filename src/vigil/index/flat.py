"""Brute-force PDQ index: XOR and popcount over every hash, vectorised with numpy.

Exact by construction, and the reference the faster indexes are tested against. Memory is 32 bytes
per hash plus an 8-byte id.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vigil.index.base import NearMatch


def as_words(hashes: Sequence[bytes] | np.ndarray) -> np.ndarray:
    """(n, 4) uint64 view of n 32-byte hashes."""
    if isinstance(hashes, np.ndarray):
        return np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, 32).view(np.uint64)
    buf = np.frombuffer(b"".join(hashes), dtype=np.uint8) if hashes else np.zeros(0, np.uint8)
    return buf.reshape(-1, 32).view(np.uint64)


class FlatPdqIndex:
    def __init__(self, hashes: Sequence[bytes] | np.ndarray = (), ids: Sequence[int] | None = None):
        self._words = as_words(hashes).copy()
        n = len(self._words)
        self._ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        if len(self._ids) != n:
            raise ValueError("hashes and ids differ in length")

    def __len__(self) -> int:
        return len(self._words)

    def distances(self, query: bytes) -> np.ndarray:
        q = as_words([query])[0]
        return np.bitwise_count(self._words ^ q).sum(axis=1, dtype=np.int32)

    def search(self, queries: Sequence[bytes], threshold: int) -> list[list[NearMatch]]:
        out = []
        for query in queries:
            if not len(self._words):
                out.append([])
                continue
            dist = self.distances(query)
            hit = np.flatnonzero(dist <= threshold)
            out.append([NearMatch(int(self._ids[i]), int(dist[i])) for i in hit])
        return out

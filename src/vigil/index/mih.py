"""Exact PDQ search at scale: multi-index hashing over 16 16-bit chunks, in memory-mapped segments.

A segment is one immutable batch of hashes (in Vigil, one hash set's PDQ entries). For each of the
16 chunks it keeps the positions sorted by that chunk and the bucket bounds, so a query probes the
buckets of every chunk value within `threshold // 16` bits of its own (17 buckets per chunk at the
default 31) and checks only those candidates: by the pigeonhole principle every hash within the
threshold has such a chunk, so the results are exact. The loop is in C (`_mih.c`).

On disk a segment is a folder of plain `.npy` arrays (documented, portable, memory-mappable):

    codes.npy    uint8   (N, 32)     the hashes, as their 32 bytes (hex order)
    ids.npy      uint32  (N,)        compact ids the caller gave (Vigil: hash_entries.id)
    perms.npy    uint32  (16, N)     positions sorted by chunk t (chunk t = bytes 2t, 2t+1, big-endian)
    offsets.npy  uint32  (16, 65537) bucket bounds: chunk value v of table t is perms[t, off[v]:off[v+1]]

Opening maps the files without reading them, so a server starts at once and worker processes share
the page cache. Memory: 32 + 4 + 64 = 100 bytes per hash, plus 4 MB of bucket bounds per segment.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from pathlib import Path

import numpy as np

from vigil.index.base import NearMatch

CHUNKS, BUCKETS = 16, 65536
FORMAT = "vigil-pdq-mih"
VERSION = 1
_ARRAYS = ("codes", "ids", "perms", "offsets")


def _masks(radius: int) -> np.ndarray:
    """All 16-bit XOR masks with at most `radius` bits set (radius 1: 17 masks)."""
    out = [0]
    for r in range(1, radius + 1):
        out.extend(sum(1 << b for b in bits) for bits in combinations(range(16), r))
    return np.array(out, dtype=np.uint16)


_MASKS = {r: _masks(r).tobytes() for r in range(4)}


def _kernel():
    from vigil.index import _mih

    return _mih


class Segment:
    """One immutable, searchable batch of hashes."""

    def __init__(self, codes: np.ndarray, ids: np.ndarray, perms: np.ndarray, offsets: np.ndarray):
        self.codes, self.ids, self.perms, self.offsets = codes, ids, perms, offsets

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, codes: np.ndarray, ids: np.ndarray) -> Segment:
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, 32)
        ids = np.ascontiguousarray(ids, dtype=np.uint32)
        if len(codes) != len(ids):
            raise ValueError("codes and ids differ in length")
        if len(codes) >= 2**32:
            raise ValueError("a segment holds at most 2**32 - 1 hashes")
        chunks = codes.view(">u2")  # (N, 16) big-endian 16-bit words
        perms = np.empty((CHUNKS, len(codes)), dtype=np.uint32)
        offsets = np.zeros((CHUNKS, BUCKETS + 1), dtype=np.uint32)
        for t in range(CHUNKS):
            column = chunks[:, t]
            perms[t] = np.argsort(column, kind="stable")  # a radix sort for 16-bit keys
            np.cumsum(np.bincount(column, minlength=BUCKETS), out=offsets[t, 1:])
        return cls(codes, ids, perms, offsets)

    def save(self, folder: Path) -> None:
        """Write to `folder` atomically: a temporary folder renamed into place."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(self, name))
        with open(tmp / "segment.json", "w") as fh:
            json.dump({"format": FORMAT, "version": VERSION, "count": len(self)}, fh)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)

    @classmethod
    def open(cls, folder: Path) -> Segment:
        meta = json.loads((folder / "segment.json").read_text())
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ValueError(f"{folder}: not a {FORMAT} v{VERSION} segment: {meta}")
        arrays = [np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS]
        return cls(*arrays)

    def search_raw(self, queries: bytes, threshold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query index, position, distance) of every hash within `threshold` of each query."""
        if not len(self):
            empty = np.zeros(0, np.int32)
            return empty, empty.astype(np.uint32), empty.astype(np.uint8)
        radius = threshold // CHUNKS
        if radius not in _MASKS:
            raise ValueError(f"threshold must be 0-63, got {threshold}")
        nq = len(queries) // 32
        parts = min(_cores(), nq // PARALLEL_QUERIES)
        if parts <= 1:
            return self._search(queries, threshold, radius)
        # the C loop releases the GIL: a large batch is searched in slices, one thread per core
        bounds = [nq * i // parts for i in range(parts + 1)]
        slices = [queries[32 * a : 32 * b] for a, b in itertools.pairwise(bounds)]
        with ThreadPoolExecutor(parts) as pool:
            found = list(pool.map(lambda blob: self._search(blob, threshold, radius), slices))
        q = np.concatenate([f[0] + start for f, start in zip(found, bounds, strict=False)])
        return q, np.concatenate([f[1] for f in found]), np.concatenate([f[2] for f in found])

    def _search(self, queries: bytes, threshold: int, radius: int):
        q, p, d = _kernel().search(
            self.codes, self.perms, self.offsets, queries, threshold, _MASKS[radius], radius
        )
        return np.frombuffer(q, np.int32), np.frombuffer(p, np.uint32), np.frombuffer(d, np.uint8)


PARALLEL_QUERIES = 2000  # queries per thread below which a batch is searched in one call


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class MihPdqIndex:
    """A NearIndex over segments; exact, with results keyed by the compact ids given at build time."""

    def __init__(self, segments: Iterable[Segment] = ()):
        self.segments = [s for s in segments if len(s)]

    @classmethod
    def build(cls, hashes: Sequence[bytes] | np.ndarray, ids: Sequence[int] | np.ndarray) -> MihPdqIndex:
        codes = _as_codes(hashes)
        return cls([Segment.build(codes, np.asarray(ids, dtype=np.uint32))])

    def __len__(self) -> int:
        return sum(len(s) for s in self.segments)

    def search(self, queries: Sequence[bytes], threshold: int) -> list[list[NearMatch]]:
        if not 0 <= threshold <= 63:
            raise ValueError(f"threshold must be 0-63, got {threshold}")
        out: list[list[NearMatch]] = [[] for _ in queries]
        if not queries:
            return out
        blob = b"".join(queries)
        if len(blob) != 32 * len(queries):
            raise ValueError("every query must be 32 bytes")
        for segment in self.segments:
            q, p, d = segment.search_raw(blob, threshold)
            ids = segment.ids[p]
            for qi, id_, dist in zip(q.tolist(), ids.tolist(), d.tolist(), strict=True):
                out[qi].append(NearMatch(id_, dist))
        return out


def _as_codes(hashes: Sequence[bytes] | np.ndarray) -> np.ndarray:
    if isinstance(hashes, np.ndarray):
        return np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, 32)
    if not hashes:
        return np.zeros((0, 32), np.uint8)
    return np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, 32)

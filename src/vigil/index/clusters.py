"""Near-duplicate groups inside one case: connected components of "within the threshold" over a
whole set of PDQ hashes (pictures, any rotation or mirror) or of vPDQ frame sets (videos).

The search is a join, not a loop of look-ups (`_clusters.c`): for each of the 16 16-bit chunks of a
PDQ hash, both sides (the case's distinct hashes; the queries, every variant of every hash) are
radix-sorted by that chunk, and each bucket of queries is compared with the buckets of hashes
whose chunk is within threshold // 16 bits of theirs. By the pigeonhole principle that finds every
pair within the threshold (exact, as `MihPdqIndex` is), and both sides are read in order, the
comparisons 4 at a time with AVX2. The queries go through in batches; each batch's pairs are merged
into a union-find forest (one numpy array) and dropped, so memory is bounded however many pairs the
set has: 24 bytes a hash for the sorted side, 8 for the forest, about 56 bytes a query of one batch
(2M queries: ~120 MB), and that batch's pairs.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from vigil.index.mih import BUCKETS, CHUNKS, _masks
from vigil.signals.vpdq import FRAME_DISTANCE, QUERY_MATCH_PERCENT

Progress = Callable[[int, int], None]  # (steps done, steps in all)

BATCH = 1 << 21  # queries joined at a time: more amortises the reads of the hashes, fewer bounds memory


def near_components(
    codes: np.ndarray,
    variants: np.ndarray | None,
    threshold: int,
    progress: Progress | None = None,
    *,
    batch: int = BATCH,
    threads: int | None = None,
) -> np.ndarray:
    """Component label of each hash: the smallest index of its component.

    `codes` (N, 32) uint8 are distinct PDQ hashes (a repeat would be joined, at distance 0);
    `variants` (N, V, 32) uint8 are each one's rotations and mirrors (variant 0 the hash itself), or
    None for the hashes alone. Hashes i and j are joined when any variant of i is within
    `threshold` bits (0-63) of hash j, or the other way round. Exact: the same components as
    comparing every pair. `batch` queries (variants) are joined at a time; `threads` defaults to
    the usable cores."""
    codes = _as_codes(codes)
    n = len(codes)
    if not 0 <= threshold <= 63:
        raise ValueError(f"threshold must be 0-63, got {threshold}")
    if variants is None:
        queries, per = codes, 1
    else:
        variants = np.asarray(variants)
        if (
            variants.dtype != np.uint8
            or variants.ndim != 3
            or variants.shape[0] != n
            or variants.shape[2] != 32
        ):
            raise ValueError(f"variants must be ({n}, V, 32) uint8, got {variants.shape} {variants.dtype}")
        per = variants.shape[1]
        queries = np.ascontiguousarray(variants).reshape(-1, 32)
    parent = np.arange(n, dtype=np.int64)
    if n < 2 or per == 0:
        return parent
    total = len(queries)
    step = max(per, batch - batch % per)  # whole hashes per batch
    with _Joiner(codes, np.arange(n, dtype=np.uint32), threshold, threads) as joiner:
        for t in range(CHUNKS):  # tables outside: the hashes are sorted once per table
            for start in range(0, total, step):
                stop = min(total, start + step)
                owner = np.arange(start, stop, dtype=np.uint32) // np.uint32(per)  # the picture
                q, pos = joiner.pairs(queries[start:stop], owner, t)
                _union(parent, owner[q].astype(np.int64), pos.astype(np.int64))
                if progress:
                    progress(t * total + stop, CHUNKS * total)
    return _flatten(parent)


def video_components(
    videos: Sequence[np.ndarray],
    threshold: int = FRAME_DISTANCE,
    min_percent: float = QUERY_MATCH_PERCENT,
    progress: Progress | None = None,
    *,
    batch: int = BATCH,
    threads: int | None = None,
) -> np.ndarray:
    """Component label of each video (the smallest index of its component), videos given as their
    frames' PDQ hashes, (F, 32) uint8 each: the usable frames (`vigil.signals.vpdq.usable`; repeats
    are dropped here too).

    The pair rule is vPDQ matching's (`VpdqIndex.match`, `signals.vpdq.match_percent`): video a
    matches video b when >= `min_percent` of a's distinct frames have a frame of b within `threshold`
    bits. A scan reports a match in that one direction (the target's own percentage is not
    required, so a clip matches the film it was cut from); two videos are joined when either one
    matches the other, that is when the larger of `match_percent(a, b)`'s two percentages is
    >= `min_percent`."""
    if not 0 <= threshold <= 63:
        raise ValueError(f"threshold must be 0-63, got {threshold}")
    frames = [_distinct_rows(_as_codes(v)) for v in videos]
    counts = np.array([len(f) for f in frames], dtype=np.int64)
    parent = np.arange(len(frames), dtype=np.int64)
    if len(frames) < 2 or counts.sum() == 0:
        return parent
    codes = np.concatenate(frames)
    owner = np.repeat(np.arange(len(frames), dtype=np.uint32), counts)  # the video of each frame
    ends = np.cumsum(counts)
    total, start, nv = len(codes), 0, len(frames)
    with _Joiner(codes, owner, threshold, threads) as joiner:
        while start < total:  # whole videos per batch, so a video's percentage is complete in it
            stop = int(ends[np.searchsorted(ends, start + batch, side="right") - 1])
            if stop <= start:  # one video longer than a batch
                stop = int(ends[np.searchsorted(ends, start, side="right")])
            found = [joiner.pairs(codes[start:stop], owner[start:stop], t) for t in range(CHUNKS)]
            frame = np.concatenate([f[0] for f in found]).astype(np.int64) + start
            other = owner[np.concatenate([f[1] for f in found])].astype(np.int64)
            # each frame of video a that has a frame of video b near, once; then counted per (a, b)
            hits = np.unique(frame * nv + other)
            a, b = owner[hits // nv].astype(np.int64), hits % nv
            pair, matched = np.unique(a * nv + b, return_counts=True)
            a, b = pair // nv, pair % nv
            ok = 100.0 * matched / counts[a] >= min_percent  # VpdqIndex.match's query percent
            _union(parent, a[ok], b[ok])
            if progress:
                progress(stop, total)
            start = stop
    return _flatten(parent)


RECORD, KEYED = 24, 32  # bytes per hash in a partition and in its scratch (`Record`, `Keyed` in _clusters.c)


class _Buffers:
    """A partition's output (records in bucket order, bucket bounds), kept for reuse: fresh pages
    cost more than the sort that fills them."""

    def __init__(self) -> None:
        self.records = np.empty(0, np.uint8)
        self.bounds = np.empty(BUCKETS + 1, np.uint32)

    def fill(self, hashes: np.ndarray, owner: np.ndarray, t: int, scratch: np.ndarray) -> None:
        from vigil.index import _clusters

        if len(self.records) < RECORD * len(hashes):
            self.records = np.empty(RECORD * len(hashes), np.uint8)
        _clusters.partition(hashes, owner, t, self.records, self.bounds, scratch)


class _Joiner:
    """The indexed side of a join, partitioned for one table at a time, and the calls into the C
    loop: ranges of buckets on a pool of threads (it releases the GIL), a few per thread so that
    uneven buckets even out."""

    simd = True  # False: the portable C loop (tests check both)

    def __init__(self, codes: np.ndarray, owner: np.ndarray, threshold: int, threads: int | None):
        self.codes, self.owner = codes, np.ascontiguousarray(owner, dtype=np.uint32)
        self.threshold, self.radius = threshold, threshold // CHUNKS
        self.masks = _masks(self.radius).tobytes()
        threads = max(1, threads or _cores())
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None
        parts = 4 * threads if threads > 1 else 1
        self.spans = list(itertools.pairwise(BUCKETS * i // parts for i in range(parts + 1)))
        self.code, self.query, self.table = _Buffers(), _Buffers(), -1
        self.scratch = np.empty(0, np.uint8)

    def __enter__(self) -> _Joiner:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool:
            self.pool.shutdown()

    def _scratch(self, n: int) -> np.ndarray:
        if len(self.scratch) < KEYED * n:
            self.scratch = np.empty(KEYED * n, np.uint8)
        return self.scratch

    def pairs(self, queries: np.ndarray, query_owner: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(query index, position) of every indexed hash within the threshold of a query that table
        t sees and no earlier table could, pairs of one owner left out."""
        from vigil.index import _clusters

        if self.table != t:
            self.code.fill(self.codes, self.owner, t, self._scratch(len(self.codes)))
            self.table = t
        queries = np.ascontiguousarray(queries, dtype=np.uint8)
        query_owner = np.ascontiguousarray(query_owner, dtype=np.uint32)
        self.query.fill(queries, query_owner, t, self._scratch(len(queries)))
        code = (self.code.records, self.code.bounds, self.codes)
        query = (self.query.records, self.query.bounds, queries)

        def run(span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
            q, p = _clusters.join(*code, *query, self.threshold, self.masks, self.radius, t, *span, self.simd)
            return np.frombuffer(q, np.int32), np.frombuffer(p, np.uint32)

        found = list(self.pool.map(run, self.spans)) if self.pool else [run(s) for s in self.spans]
        if len(found) == 1:
            return found[0]
        return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def _union(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Join a[k] and b[k] for every k in the forest `parent`, where parent[x] <= x always (so the
    root of a tree is its smallest member): roots are hooked under the smaller root, round after
    round, until every pair shares a root."""
    while len(a):
        ra, rb = _roots(parent, a), _roots(parent, b)
        apart = ra != rb
        if not apart.any():
            return
        lo, hi = np.minimum(ra[apart], rb[apart]), np.maximum(ra[apart], rb[apart])
        parent[hi] = lo  # several lo for one hi: one wins, the others join it next round
        a, b = lo, hi


def _roots(parent: np.ndarray, x: np.ndarray) -> np.ndarray:
    r = parent[x]
    for _ in range(64):
        up = parent[r]
        if np.array_equal(up, r):
            parent[x] = r  # path compression for the nodes asked about
            return r
        r = up
    parent[:] = _flatten(parent)  # deep trees: flatten all of them at once
    return _roots(parent, x)


def _flatten(parent: np.ndarray) -> np.ndarray:
    """Every node pointing straight at its root (pointer jumping)."""
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            return parent
        parent = up


def _distinct_rows(codes: np.ndarray) -> np.ndarray:
    """The rows of `codes` without repeats, first occurrences in their order."""
    if len(codes) < 2:
        return codes
    _, first = np.unique(codes.view(np.dtype((np.void, 32))).ravel(), return_index=True)
    return codes[np.sort(first)]


def _as_codes(codes: np.ndarray) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.dtype != np.uint8 or codes.ndim != 2 or codes.shape[1] != 32:
        if codes.size == 0:
            return np.zeros((0, 32), np.uint8)
        raise ValueError(f"PDQ hashes must be (N, 32) uint8, got {codes.shape} {codes.dtype}")
    return np.ascontiguousarray(codes)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1

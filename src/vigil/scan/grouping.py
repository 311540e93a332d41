"""Duplicates within a case: exact (same SHA-256), near pictures (PDQ within the threshold, any
rotation or mirror) and near videos (vPDQ), merged into groups so an analyst looks at each picture
once."""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np
from sqlalchemy import func, select

from vigil.index.clusters import near_components, video_components
from vigil.signals.pdq import PdqSignal
from vigil.signals.vpdq import unpack, usable
from vigil.store import Database
from vigil.store.caseitems import clear, keyset, ordered, set_values
from vigil.store.models import CaseItem


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_case(db: Database, case_id: int, threshold: int) -> int:
    """Set `duplicate_group` (1, 2, ...) on the stored case's items that have a twin; the number of
    groups. Read in bounded batches: exact twins from the database's own sort by SHA-256, near twins
    from the pictures' PDQs (any rotation or mirror, `vigil.index.clusters`), and videos whose vPDQ
    frames match (the scan's video rule). Only items that have a twin are held, as ids. Groups are
    numbered in the path order of their first member."""
    clear(db, case_id, "duplicate_group", None)
    left, right = array("q"), array("q")
    for a, b in _same_sha256(db, case_id):
        left.append(a)
        right.append(b)
    near = [_near_pdq(db, case_id, threshold), _near_videos(db, case_id)]
    left_all = np.concatenate([np.frombuffer(left, np.int64), *(a for a, _ in near)])
    right_all = np.concatenate([np.frombuffer(right, np.int64), *(b for _, b in near)])
    if not len(left_all):
        return 0
    ids, roots = _components(left_all, right_all)
    first: dict[int, str] = {}  # root -> smallest path of its group
    for rows in _paths(db, case_id, ids.tolist()):
        for item_id, path in rows:
            root = int(roots[np.searchsorted(ids, item_id)])
            if root not in first or path < first[root]:
                first[root] = path
    number = {root: n for n, root in enumerate(sorted(first, key=lambda r: (first[r], r)), start=1)}
    rows = ({"id": int(i), "duplicate_group": number[int(r)]} for i, r in zip(ids, roots, strict=True))
    set_values(db, case_id, rows)
    return len(number)


def _same_sha256(db: Database, case_id: int) -> Iterable[tuple[int, int]]:
    """(first, other) id pairs of items with the same SHA-256 (known-good files are not leads)."""
    leads = (CaseItem.case_id == case_id) & CaseItem.sha256.is_not(None) & CaseItem.known.is_(None)
    # the database finds the digests held twice: only the items that have a twin come back here
    twice = select(CaseItem.sha256).where(leads).group_by(CaseItem.sha256).having(func.count() > 1)
    where = leads & CaseItem.sha256.in_(twice)
    previous, head = None, None
    order = (CaseItem.sha256, CaseItem.id)
    for item_id, sha in ordered(db, case_id, (CaseItem.id, CaseItem.sha256), order, where):
        if sha == previous:
            yield head, item_id
        else:
            previous, head = sha, item_id


def _near_pdq(db: Database, case_id: int, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) id arrays: pictures whose PDQs (any rotation or mirror) are within `threshold`, each
    joined to the first picture of its component. Held as arrays: 8 + 32 + 256 bytes a picture."""
    where = CaseItem.pdq.is_not(None) & CaseItem.known.is_(None)
    where &= CaseItem.pdq_quality >= PdqSignal.min_quality
    ids, codes, variants = array("q"), bytearray(), bytearray()
    for rows in keyset(db, case_id, (CaseItem.pdq, CaseItem.dihedral), where):
        for r in rows:
            code = bytes.fromhex(r.pdq)
            ids.append(r.id)
            codes += code
            blob = r.dihedral or b""
            variants += blob[: 8 * 32] + code * (8 - len(blob[: 8 * 32]) // 32)  # pad with itself
    if not ids:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    item_ids = np.frombuffer(ids, np.int64)
    all_codes = np.frombuffer(bytes(codes), np.uint8).reshape(-1, 32)
    distinct, first, inverse = np.unique(all_codes, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    shapes = np.frombuffer(bytes(variants), np.uint8).reshape(-1, 8, 32)[first]
    del codes, variants
    labels = near_components(distinct, shapes, threshold)
    head = item_ids[first[labels[inverse]]]  # each picture's component, as the id of its first picture
    keep = head != item_ids
    return head[keep], item_ids[keep]


def _near_videos(db: Database, case_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) id arrays: videos that match each other by the scan's vPDQ rule (either way)."""
    ids, videos = [], []
    where = CaseItem.vpdq.is_not(None) & CaseItem.known.is_(None)
    for rows in keyset(db, case_id, (CaseItem.vpdq,), where):
        for r in rows:
            frames = usable(unpack(r.vpdq))
            if frames:
                ids.append(r.id)
                videos.append(np.frombuffer(b"".join(f.pdq for f in frames), np.uint8).reshape(-1, 32))
    if len(ids) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    labels = video_components(videos)
    item_ids = np.array(ids, dtype=np.int64)
    head = item_ids[labels]
    keep = head != item_ids
    return head[keep], item_ids[keep]


def _components(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, root of each) of the graph with edges left[k]-right[k]; a root is its component's
    smallest id; ids sorted."""
    ids = np.unique(np.concatenate([left, right]))
    uf = _UnionFind(len(ids))
    for a, b in zip(np.searchsorted(ids, left).tolist(), np.searchsorted(ids, right).tolist(), strict=True):
        uf.union(a, b)
    roots = np.array([uf.find(i) for i in range(len(ids))], dtype=np.int64)
    return ids, ids[roots]


def _paths(db: Database, case_id: int, ids: list[int]) -> Iterable[list[tuple[int, str]]]:
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for rows in keyset(db, case_id, (CaseItem.path,), CaseItem.id.in_(chunk)):
            yield [(r.id, r.path) for r in rows]

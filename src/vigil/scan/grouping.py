"""Duplicates within a case: exact (same SHA-256) and near (PDQ within the threshold, any rotation
or mirror), merged into groups so an analyst looks at each picture once."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.index import MihPdqIndex, search_dihedral
from vigil.scan.hashing import Item
from vigil.signals.pdq import PdqSignal


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


def assign_duplicate_groups(items: Sequence[Item], threshold: int) -> int:
    """Set `duplicate_group` (1, 2, ... in path order) on items that have a twin; return the count."""
    uf = _UnionFind(len(items))
    first_by_sha: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.sha256 and not item.known:  # a thousand copies of a system DLL are not a lead
            j = first_by_sha.setdefault(item.sha256, i)
            if j != i:
                uf.union(i, j)
    # near duplicates: one search per distinct PDQ (exact copies share theirs), the rest joined to it
    first_by_pdq: dict[str, int] = {}
    for i, it in enumerate(items):
        if it.pdq and (it.pdq_quality or 0) >= PdqSignal.min_quality and not it.known:
            j = first_by_pdq.setdefault(it.pdq, i)
            if j != i:
                uf.union(i, j)
    hashed = list(first_by_pdq.values())
    if hashed:
        index = MihPdqIndex.build([bytes.fromhex(items[i].pdq) for i in hashed], hashed)
        variants = [[bytes.fromhex(v) for v in (items[i].dihedral or (items[i].pdq,))] for i in hashed]
        for i, hits in zip(hashed, search_dihedral(index, variants, threshold), strict=True):
            for hit in hits:
                uf.union(i, hit.id)
    members: dict[int, list[int]] = {}
    for i in range(len(items)):
        members.setdefault(uf.find(i), []).append(i)
    groups = sorted((g for g in members.values() if len(g) > 1), key=lambda g: items[g[0]].path)
    for number, group in enumerate(groups, start=1):
        for i in group:
            items[i].duplicate_group = number
    return len(groups)

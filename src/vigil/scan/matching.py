"""Matching a case's items against the hash sets in the store: exact digests, then PDQ near matches
(all 8 rotations/mirrors, quality >= Meta's floor of 50), one match per hash set and signal."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.index import search_dihedral
from vigil.scan.hashing import Item
from vigil.signals.crypto import CRYPTO_SIGNALS
from vigil.signals.pdq import PdqSignal
from vigil.store.hashsets import HashsetRepository


def _add(item: Item, hashset: str, signal: str, distance: int, category: str | None) -> None:
    for m in item.matches:
        if m["hashset"] == hashset and m["signal"] == signal and m["category"] == category:
            m["distance"] = min(m["distance"], distance)
            return
    item.matches.append({"hashset": hashset, "signal": signal, "distance": distance, "category": category})


def match_items(repo: HashsetRepository, items: Sequence[Item], threshold: int) -> None:
    items = [it for it in items if not it.known]  # known-good files are eliminated, not matched
    for signal in CRYPTO_SIGNALS:
        values = {bytes.fromhex(v): v for it in items if (v := getattr(it, signal.name))}
        if not values:
            continue
        found = repo.exact_opinions(signal.name, values)
        for item in items:
            value = getattr(item, signal.name)
            for opinion in found.get(bytes.fromhex(value), []) if value else []:
                _add(item, opinion.hashset, signal.name, 0, opinion.category)
    queried = [it for it in items if it.pdq and (it.pdq_quality or 0) >= PdqSignal.min_quality]
    if not queried:
        return
    index = repo.pdq_index()
    if not len(index):
        return
    variants = [[bytes.fromhex(v) for v in (item.dihedral or (item.pdq,))] for item in queried]
    best = search_dihedral(index, variants, threshold)
    opinions = repo.opinions_by_id({m.id for hits in best for m in hits})
    for item, hits in zip(queried, best, strict=True):
        for hit in hits:
            opinion = opinions[hit.id]
            _add(item, opinion.hashset, "pdq", hit.distance, opinion.category)
    for item in items:
        item.matches.sort(key=lambda m: (m["distance"], m["hashset"], m["signal"]))

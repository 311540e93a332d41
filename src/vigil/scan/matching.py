"""Matching a case's items against the hash sets in the store: exact digests, then PDQ near matches
(all 8 rotations/mirrors, quality >= Meta's floor of 50), one match per hash set and signal."""

from __future__ import annotations

from collections.abc import Sequence

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
    index, _ = repo.pdq_index()
    if not len(index):
        return
    best: list[dict[int, int]] = []
    for item in queried:
        variants = [bytes.fromhex(v) for v in (item.dihedral or (item.pdq,))]
        closest: dict[int, int] = {}
        for hits in index.search(variants, threshold):
            for hit in hits:
                closest[hit.id] = min(hit.distance, closest.get(hit.id, 256))
        best.append(closest)
    opinions = repo.opinions_by_id({i for closest in best for i in closest})
    for item, closest in zip(queried, best, strict=True):
        for entry_id, distance in sorted(closest.items(), key=lambda kv: kv[1]):
            opinion = opinions[entry_id]
            _add(item, opinion.hashset, "pdq", distance, opinion.category)
    for item in items:
        item.matches.sort(key=lambda m: (m["distance"], m["hashset"], m["signal"]))

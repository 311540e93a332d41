"""Matching a case's items against the hash sets in the store: exact digests, PDQ near matches (all 8
rotations/mirrors, quality >= Meta's floor of 50), videos by vPDQ; one match per hash set and signal.
A near match without an exact one flags the item as an altered copy."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.index import search_dihedral
from vigil.scan.hashing import Item
from vigil.signals.crypto import CRYPTO_SIGNALS
from vigil.signals.pdq import PdqSignal
from vigil.signals.vpdq import ranges
from vigil.store.hashsets import HashsetRepository

NEAR_SIGNALS = frozenset({"pdq", "vpdq"})


def _add(item: Item, hashset: str, signal: str, distance: int, category: str | None, **more) -> None:
    for m in item.matches:
        if m["hashset"] == hashset and m["signal"] == signal and m["category"] == category:
            m["distance"] = min(m["distance"], distance)
            return
    item.matches.append(
        {"hashset": hashset, "signal": signal, "distance": distance, "category": category, **more}
    )


def _match_videos(repo: HashsetRepository, items: Sequence[Item]) -> None:
    """Videos against the known videos' frame indexes; each match says which time ranges matched."""
    videos = [it for it in items if it.vpdq]
    if not videos:
        return
    indexes = repo.vpdq_indexes()
    if not indexes:
        return
    found = [(item, name, m) for item in videos for name, index in indexes for m in index.match(item.vpdq)]
    opinions = repo.opinions_by_id({m.entry_id for _, _, m in found})
    for item, name, m in found:
        step = _step(item.vpdq)
        times = [f.timestamp for f in item.vpdq if f.pdq in m.matched]
        _add(
            item,
            name,
            "vpdq",
            m.distance,
            opinions[m.entry_id].category,
            ranges=ranges(times, step, item.duration or 0.0),
            query_match_percent=m.query_percent,
            target_match_percent=m.target_percent,
        )


def _step(frames) -> float:
    """Seconds between sampled frames (1 s by default; the whole video when it has one frame)."""
    return frames[1].timestamp - frames[0].timestamp if len(frames) > 1 else 1.0


def _flag_altered(items: Sequence[Item]) -> None:
    """A near match (PDQ or video) with no exact one: an altered copy of known material."""
    for item in items:
        near = [m for m in item.matches if m["signal"] in NEAR_SIGNALS]
        exact = [m for m in item.matches if m["signal"] not in NEAR_SIGNALS]
        if near and not exact and (any(m["distance"] > 0 for m in near) or item.vpdq):
            item.flag("altered-copy")


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
    _match_images(repo, items, threshold)
    _match_videos(repo, items)
    _flag_altered(items)
    for item in items:
        item.matches.sort(key=lambda m: (m["distance"], m["hashset"], m["signal"]))


def _match_images(repo: HashsetRepository, items: Sequence[Item], threshold: int) -> None:
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

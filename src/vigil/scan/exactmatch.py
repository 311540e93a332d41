"""Exact matches (md5, sha1, sha256 and any other signal indexed "exact"), found where the items are
made: a worker looks up each batch's digests in the sets' memory-mapped exact segments, so the case
store receives items with their exact matches already in them and the matching pass after the
hashing reads back only pictures and videos (a million plain files are never read twice). No
database here: workers, local or on a Dask cluster, need only the index folder."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.scan.hashing import Item
from vigil.signals import indexed_by
from vigil.store.setfolder import OpenSets


def add_match(item: Item, hashset: str, signal: str, distance: int, category: str | None, **more) -> None:
    """One match per hash set, signal and category, at the smallest distance found."""
    for m in item.matches:
        if m["hashset"] == hashset and m["signal"] == signal and m["category"] == category:
            m["distance"] = min(m["distance"], distance)
            return
    item.matches.append(
        {"hashset": hashset, "signal": signal, "distance": distance, "category": category, **more}
    )


def match_exact(items: Sequence[Item], sets: OpenSets) -> None:
    """Add to each item (not known-good) the sets that list one of its digests: one search per
    signal for all the items together."""
    items = [it for it in items if not it.known]
    for signal in indexed_by("exact"):
        values = {bytes.fromhex(v) for it in items if (v := it.hash(signal.name))}
        if not values:
            continue
        found = sets.exact(signal.name, list(values))
        if not found:
            continue
        for item in items:
            value = item.hash(signal.name)
            for hashset, category in found.get(bytes.fromhex(value), []) if value else []:
                add_match(item, hashset, signal.name, 0, category)
    for item in items:
        if len(item.matches) > 1:
            item.matches.sort(key=lambda m: (m["distance"], m["hashset"], m["signal"]))

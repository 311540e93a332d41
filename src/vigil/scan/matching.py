"""Matching a case's items against the hash sets in the store: exact digests, PDQ near matches (all 8
rotations/mirrors, quality >= Meta's floor of 50), videos by vPDQ; one match per hash set and signal.
A near match without an exact one flags the item as an altered copy."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import or_

from vigil.scan.exactmatch import add_match, match_exact
from vigil.scan.hashing import ROW_KEYS, Item
from vigil.signals import all_signals
from vigil.signals.pdq import PdqSignal
from vigil.signals.vpdq import VpdqSignal, ranges
from vigil.store import Database
from vigil.store.caseitems import keyset, set_values
from vigil.store.hashsets import HashsetRepository
from vigil.store.models import CaseItem
from vigil.store.setfolder import OpenSets


def near_signals() -> frozenset[str]:
    """Signals matched by distance (pdq, vpdq): a match on them alone is an altered copy."""
    return frozenset(s.name for s in all_signals() if s.index != "exact")


def __getattr__(name: str):
    if name == "NEAR_SIGNALS":  # from the registry when asked, so a newly registered signal counts
        return near_signals()
    raise AttributeError(name)


def _match_videos(repo: HashsetRepository, sets: OpenSets, items: Sequence[Item]) -> None:
    """Videos against the known videos' frame indexes; each match says which time ranges matched."""
    videos = [it for it in items if it.vpdq]
    if not videos:
        return
    indexes = sets.videos(VpdqSignal.name)
    if not indexes:
        return
    found = [(item, name, m) for item in videos for name, index in indexes for m in index.match(item.vpdq)]
    opinions = repo.opinions_by_id({m.entry_id for _, _, m in found})
    for item, name, m in found:
        step = _step(item.vpdq)
        times = [f.timestamp for f in item.vpdq if f.pdq in m.matched]
        add_match(
            item,
            name,
            VpdqSignal.name,
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
        near_names = near_signals()
        near = [m for m in item.matches if m["signal"] in near_names]
        exact = [m for m in item.matches if m["signal"] not in near_names]
        if near and not exact and (any(m["distance"] > 0 for m in near) or item.vpdq):
            item.flag("altered-copy")


def match_items(
    repo: HashsetRepository, items: Sequence[Item], threshold: int, sets: OpenSets | None = None
) -> None:
    items = [it for it in items if not it.known]  # known-good files are eliminated, not matched
    sets = sets or repo.open_sets()
    match_exact(items, sets)
    _match_images(sets, items, threshold)
    _match_videos(repo, sets, items)
    _flag_altered(items)
    for item in items:
        item.matches.sort(key=lambda m: (m["distance"], m["hashset"], m["signal"]))


def _match_images(sets: OpenSets, items: Sequence[Item], threshold: int) -> None:
    queried = [it for it in items if it.pdq and (it.pdq_quality or 0) >= PdqSignal.min_quality]
    if not queried:
        return
    variants = [[bytes.fromhex(v) for v in (item.dihedral or (item.pdq,))] for item in queried]
    for item, hits in zip(queried, sets.near(PdqSignal.name, variants, threshold), strict=True):
        for hashset, distance, category in hits:
            add_match(item, hashset, PdqSignal.name, distance, category)


def match_case(db: Database, case_id: int, threshold: int) -> dict[str, int]:
    """Match a stored case's pictures and videos (read back in bounded batches) and store each hit's
    matches (and the `altered-copy` flag); returns the counts of the summary (matched_exact,
    matched_near, disputed). The exact matches of every item came with it from the workers
    (`vigil.scan.exactmatch`): only the items that have matches are read again, to be counted."""
    repo = HashsetRepository(db)
    sets = repo.open_sets()
    columns = tuple(getattr(CaseItem, key) for key in ROW_KEYS)
    pictures = or_(CaseItem.pdq.is_not(None), CaseItem.vpdq.is_not(None))
    for rows in keyset(db, case_id, columns, CaseItem.known.is_(None) & pictures):
        items = [Item.from_row(r._mapping) for r in rows]
        match_items(repo, items, threshold, sets)
        hits = [(r.id, it) for r, it in zip(rows, items, strict=True) if it.matches]
        set_values(db, case_id, (_matched(i, it) for i, it in hits))
    counted = {"matched_exact": 0, "matched_near": 0, "disputed": 0}
    near = near_signals()
    for rows in keyset(db, case_id, (CaseItem.matches,), CaseItem.matches != "[]"):
        for row in rows:
            found = json.loads(row.matches)
            exact = any(m["signal"] not in near for m in found)
            counted["matched_exact" if exact else "matched_near"] += 1
            counted["disputed"] += Item(path=row.id, matches=found).disputed
    return counted


def _matched(item_id: int, item: Item) -> dict:
    return {
        "id": item_id,
        "matches": json.dumps(item.matches, ensure_ascii=False),
        "flags": json.dumps(item.flags, ensure_ascii=False) if item.flags else None,
    }

"""`vigil scan`: hash every file (worker processes on all cores), match, group, record the case."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vigil.index.exact import ExactSegment
from vigil.scan.grouping import assign_duplicate_groups
from vigil.scan.hashing import Item, hash_file
from vigil.scan.matching import match_items
from vigil.scan.walk import evidence_files
from vigil.signals.pdq import PdqSignal
from vigil.store import Database
from vigil.store.cases import CaseRepository
from vigil.store.hashsets import HashsetRepository
from vigil.store.setindex import SetIndexStore

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class CaseResult:
    case: str
    source: str
    items: list[Item]
    duplicate_groups: int

    def summary(self) -> dict:
        return {
            "files": len(self.items),
            "images": sum(1 for it in self.items if (it.type or "").startswith("image/")),
            "known": sum(1 for it in self.items if it.known),
            "errors": sum(1 for it in self.items if it.error),
            "matched_exact": sum(1 for it in self.items if any(m["signal"] != "pdq" for m in it.matches)),
            "matched_near": sum(
                1 for it in self.items if it.matches and all(m["signal"] == "pdq" for m in it.matches)
            ),
            "duplicate_groups": self.duplicate_groups,
            "disputed": sum(1 for it in self.items if it.disputed),
        }

    def report(self) -> dict:
        return {
            "case": self.case,
            "source": self.source,
            "summary": self.summary(),
            "items": [it.report() for it in self.items],
        }


_known_cache: dict[tuple, list] = {}

KnownSets = tuple[tuple[str, str], ...]  # (set name, segment folder) of each known-good set


def _known(sets: KnownSets):
    """This worker's known-good look-up: the known sets' exact segments, memory-mapped once."""
    if not sets:
        return None
    if sets not in _known_cache:
        _known_cache[sets] = [(name, ExactSegment.open(Path(folder))) for name, folder in sets]
    segments = _known_cache[sets]

    def lookup(digests: dict[str, bytes]) -> str | None:
        return next((name for name, seg in segments if seg.contains_any(digests)), None)

    return lookup


def _work(task: tuple[str, str, KnownSets]) -> list[Item]:
    """One file's items. A bug tripped by one odd file becomes that file's error, not a dead scan."""
    try:
        return hash_file(task[0], task[1], dihedral=True, known=_known(task[2]))
    except Exception as exc:  # noqa: BLE001 - reported on the item, the scan goes on
        return [Item(path=task[1], error=f"internal error while hashing: {type(exc).__name__}: {exc}")]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def hash_evidence(
    root: Path, workers: int, progress: Progress | None = None, known: KnownSets = ()
) -> list[Item]:
    tasks = [(fs, logical, known) for fs, logical in evidence_files(root)]
    total, done, items = len(tasks), 0, []
    if progress:
        progress(0, total)
    if workers <= 1 or total < 2:
        results = map(_work, tasks)
        pool = None
    else:
        # spawn: workers start clean, with no copy of the parent's database connections or threads
        pool = multiprocessing.get_context("spawn").Pool(min(workers, total))
        results = pool.imap_unordered(_work, tasks, chunksize=max(1, min(32, total // (workers * 8))))
    try:
        for batch in results:
            items.extend(batch)
            done += 1
            if progress:
                progress(done, total)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    items.sort(key=lambda it: it.path)
    return items


def run_scan(
    db: Database,
    root: Path,
    case: str,
    threshold: int = PdqSignal.default_threshold,
    workers: int | None = None,
    progress: Progress | None = None,
) -> CaseResult:
    known = tuple((name, str(folder)) for name, folder, _ in SetIndexStore(db).sets(known=True))
    items = hash_evidence(root, workers or default_workers(), progress, known)
    match_items(HashsetRepository(db), items, threshold)
    groups = assign_duplicate_groups(items, threshold)
    result = CaseResult(case=case, source=str(root.resolve()), items=items, duplicate_groups=groups)
    CaseRepository(db).save(
        result.case, result.source, threshold, result.summary(), [it.report() for it in items]
    )
    return result

"""`vigil scan`: list the evidence's tasks, do them in parallel (local processes or a Dask cluster),
record each finished task in the case store as it comes in, then match, group and save the case.

The scanning process is the single writer: workers only hash and send back item states. Progress is
committed every quarter second, so `kill -9` loses at most the tasks in flight, and
`run_scan(resume=True)` does only the tasks not yet recorded; the result equals an uninterrupted run.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from vigil import __version__
from vigil.errors import VigilError
from vigil.scan.grouping import assign_duplicate_groups
from vigil.scan.hashing import Item, Limits
from vigil.scan.locations import encodable
from vigil.scan.matching import NEAR_SIGNALS, match_items
from vigil.scan.tasks import KnownSets, Task, do_task, do_tasks, list_tasks
from vigil.settings import prepare_process, prepared
from vigil.signals import vpdq
from vigil.signals.pdq import PdqSignal
from vigil.store import Database
from vigil.store.cases import CaseRepository
from vigil.store.hashsets import HashsetRepository
from vigil.store.scanruns import ScanRunRepository
from vigil.store.setindex import SetIndexStore

HIDDEN_FLAGS = frozenset({"extension-mismatch", "appended-data", "carved", "thumbnail-differs"})
Progress = Callable[[int, int], None]  # (done, total)
COMMIT_SECONDS = 0.25  # at most this much finished work is redone after a kill
COMMIT_TASKS = 1000
DASK_BATCH = 64


def is_hidden(flags: Iterable[str]) -> bool:
    """Content hidden from a look at the names: misnamed, appended, carved, swapped thumbnail. The
    summary's `hidden` and the HTML report's hidden section count the same items by this test."""
    return not HIDDEN_FLAGS.isdisjoint(flags)


@dataclass
class CaseResult:
    case: str
    source: str
    items: list[Item]
    duplicate_groups: int
    skipped: list[dict] = field(default_factory=list)  # [{"path", "reason"}]: entries not examined
    provenance: dict = field(default_factory=dict)  # what was searched with (see scan_provenance)

    def summary(self) -> dict:
        return {
            "files": len(self.items),
            "images": sum(1 for it in self.items if (it.type or "").startswith("image/")),
            "videos": sum(1 for it in self.items if (it.type or "").startswith("video/")),
            "known": sum(1 for it in self.items if it.known),
            "errors": sum(1 for it in self.items if it.error),
            "matched_exact": sum(
                1 for it in self.items if any(m["signal"] not in NEAR_SIGNALS for m in it.matches)
            ),
            "matched_near": sum(
                1 for it in self.items if it.matches and all(m["signal"] in NEAR_SIGNALS for m in it.matches)
            ),
            "hidden": sum(1 for it in self.items if is_hidden(it.flags)),
            "encrypted": sum(1 for it in self.items if "encrypted" in it.flags),
            "deleted": sum(1 for it in self.items if "deleted" in it.flags),
            "duplicate_groups": self.duplicate_groups,
            "disputed": sum(1 for it in self.items if it.disputed),
            "empty": sum(1 for it in self.items if "empty" in it.flags),
            "skipped": len(self.skipped),
        }

    def report(self) -> dict:
        return {
            "case": self.case,
            "source": self.source,
            "scan": self.provenance,
            "summary": self.summary(),
            "skipped": self.skipped,
            "items": [it.report() for it in self.items],
        }


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _local(tasks: list[Task], known: KnownSets, workers: int) -> Iterator[tuple[str, list[dict]]]:
    settings = prepared()
    if workers <= 1 or len(tasks) < 2:
        prepare_process(settings, images=True)
        yield from (do_task(t, known) for t in tasks)
        return
    # spawn: workers start clean, with no copy of the parent's database connections or threads, and
    # are prepared with the settings this process was (BLAS threads, image limits)
    context = multiprocessing.get_context("spawn")
    with context.Pool(min(workers, len(tasks)), prepare_process, (settings, True)) as pool:
        chunk = max(1, min(8, len(tasks) // (workers * 8)))  # small: little in flight at a kill
        yield from pool.imap_unordered(partial(do_task, known=known), tasks, chunksize=chunk)


def _dask(tasks: list[Task], known: KnownSets, address: str) -> Iterator[tuple[str, list[dict]]]:
    """The same tasks on a Dask distributed cluster; workers read the evidence from the same path."""
    from distributed import Client, as_completed

    from vigil.errors import VigilError

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise VigilError(f"--dask {address}: cannot reach the scheduler: {exc}") from None
    with client:
        client.register_worker_callbacks(setup=partial(prepare_process, prepared(), True))
        batches = [tasks[i : i + DASK_BATCH] for i in range(0, len(tasks), DASK_BATCH)]
        futures = client.map(do_tasks, batches, known=known, pure=False)
        for future in as_completed(futures):
            yield from future.result()
            future.release()


def _results(tasks: list[Task], known: KnownSets, workers: int, dask: str | None) -> Iterator:
    return _dask(tasks, known, dask) if dask else _local(tasks, known, workers)


def hash_evidence(
    root: Path,
    workers: int,
    progress: Progress | None = None,
    known: KnownSets = (),
    dask: str | None = None,
    skipped: list[tuple[str, str]] | None = None,
) -> list[Item]:
    """Every item under `root`, without a case store (for `vigil hashset add-files` and tests);
    entries not examined go to `skipped`."""
    tasks = list_tasks(root, skipped)
    results = _results(tasks, known, workers, dask)
    items = [Item.from_state(s) for _, states in _counted(results, len(tasks), 0, progress) for s in states]
    return sorted(items, key=lambda it: it.path)


def _counted(results: Iterable, total: int, done: int, progress: Progress | None) -> Iterator:
    if progress:
        progress(done, total)
    for result in results:
        done += 1
        if progress:
            progress(done, total)
        yield result


def iso_utc(moment: datetime) -> str:
    """A naive-UTC or aware time as ISO 8601 UTC with a Z, to the second."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def hashsets_used(db: Database) -> list[dict]:
    """The enabled hash sets a scan searches with (known-good ones say so), as the case records them:
    name, version, format, entries and the SHA-256 of the file each was imported from."""
    return [
        {
            "name": s.name,
            "version": s.version,
            "format": s.format,
            "entries": s.entries,
            "file_sha256": s.file_sha256,
            "imported_at": s.imported_at + "Z",
            "source": s.source,
            "known": s.known,
        }
        for s in HashsetRepository(db).list()
        if s.enabled
    ]


def scan_provenance(
    sets: list[dict], threshold: int, options: dict, examiner: str | None, reference: str | None
) -> dict:
    """What a case was searched with: Vigil's version, the hash sets, thresholds, guards, options and
    who ran it (times are added when the scan starts and ends)."""
    limits = Limits()
    return {
        "vigil_version": __version__,
        "started_at": None,
        "finished_at": None,
        "examiner": examiner,
        "reference": reference,
        "hashsets": sets,
        "thresholds": {
            "pdq_distance": threshold,
            "pdq_min_quality": PdqSignal.min_quality,
            "vpdq_frame_distance": vpdq.FRAME_DISTANCE,
            "vpdq_min_quality": vpdq.MIN_QUALITY,
            "vpdq_match_percent": vpdq.QUERY_MATCH_PERCENT,
        },
        "limits": {"max_depth": limits.max_depth, "max_expanded_bytes": limits.max_expanded_bytes},
        "options": options,
        "symlinks": "not followed (listed in skipped)",
    }


def _refuse_to_replace(
    db: Database, runs: ScanRunRepository, case: str, source: str, resume: bool, replace: bool
) -> None:
    """An existing case is replaced only when asked (`replace`), or when `resume` carries on the
    run of the same evidence (an interrupted re-scan, or a finished one: same result)."""
    existing = CaseRepository(db).existing(case)
    if existing is None or replace or (resume and runs.source_of(case) == source):
        return
    when = iso_utc(existing["scanned_at"]) if existing["scanned_at"] else "at an unknown time"
    raise VigilError(
        f"case {encodable(case)!r} already exists: evidence {existing['source']}, scanned {when}; "
        "give another --case name, or --replace to replace it with this scan"
    )


def run_scan(
    db: Database,
    root: Path,
    case: str,
    threshold: int = PdqSignal.default_threshold,
    workers: int | None = None,
    progress: Progress | None = None,
    resume: bool = False,
    dask: str | None = None,
    *,
    allow_no_sets: bool = False,
    examiner: str | None = None,
    reference: str | None = None,
    replace: bool = False,
) -> CaseResult:
    """Scan `root` as `case`. With no enabled hash set to match against the scan is an error (it
    could only say "matched 0"), unless `allow_no_sets` asks for a scan that only hashes. A case of
    that name that exists already is never replaced in silence: only with `replace`, or by
    `resume` of the same evidence's run (which finishes that run)."""
    sets = hashsets_used(db)
    if not allow_no_sets and not any(not s["known"] for s in sets):
        raise VigilError(
            "no enabled hash set to match against: a scan would report 0 matches whatever the evidence "
            "holds; import one (`vigil hashset import`), enable one (`vigil hashset enable NAME`), "
            "or pass --allow-no-sets for a scan that only hashes"
        )
    options = {"workers": workers or default_workers(), "resume": resume, "dask": dask, "replace": replace}
    options["allow_no_sets"] = allow_no_sets
    provenance = scan_provenance(sets, threshold, options, examiner, reference)
    source = encodable(str(root.resolve()))  # shown and stored: undecodable bytes as \xHH
    known = tuple((name, str(folder)) for name, folder, _ in SetIndexStore(db).sets(known=True))
    runs = ScanRunRepository(db)
    _refuse_to_replace(db, runs, case, source, resume, replace)
    run_id, done = runs.start(case, source, resume)
    provenance["started_at"] = iso_utc(runs.started_at(run_id))
    skipped: list[tuple[str, str]] = []
    tasks = list_tasks(root, skipped)
    pending = [t for t in tasks if t.key not in done]
    results = _results(pending, known, workers or default_workers(), dask)
    buffer: list[tuple[str, list[dict]]] = []
    last = time.monotonic()
    for result in _counted(results, len(tasks), len(tasks) - len(pending), progress):
        buffer.append(result)
        if len(buffer) >= COMMIT_TASKS or time.monotonic() - last >= COMMIT_SECONDS:
            runs.record(run_id, buffer)
            buffer, last = [], time.monotonic()
    runs.record(run_id, buffer)
    items = sorted((Item.from_state(s) for s in runs.items(run_id)), key=lambda it: it.path)
    match_items(HashsetRepository(db), items, threshold)
    groups = assign_duplicate_groups(items, threshold)
    provenance["finished_at"] = iso_utc(datetime.now(UTC))
    result = CaseResult(
        case=case,
        source=source,
        items=items,
        duplicate_groups=groups,
        skipped=[{"path": path, "reason": reason} for path, reason in skipped],
        provenance=provenance,
    )
    CaseRepository(db).save(
        case,
        source,
        threshold,
        result.summary(),
        [it.report() for it in items],
        provenance=provenance,
        skipped=result.skipped,
    )
    runs.finish(run_id)
    return result

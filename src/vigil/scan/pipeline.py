"""`vigil scan`: walk the evidence, do its tasks in batches in parallel (local processes or a Dask
cluster), write each finished task's items into the case store as they come in, then match, group
and name the case.

Nothing grows with the number of files: the walk is a stream, only a few batches per worker are in
flight, the single writer (this process) stores items as they come, and matching, grouping, the
summary and the outputs read them back in bounded batches. Progress is committed every quarter
second, so `kill -9` loses at most the tasks in flight, and `run_scan(resume=True)` does only the
tasks not yet recorded; the result equals an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from itertools import chain, islice
from pathlib import Path

import numpy as np

from vigil import __version__
from vigil.errors import VigilError
from vigil.media.diskimage import DISK_IMAGE
from vigil.scan.grouping import group_case
from vigil.scan.hashing import NOT_VALID_FLAGS, PLAIN_KEYS, ROW_KEYS, Item, Limits
from vigil.scan.imagetasks import FoundImages
from vigil.scan.locations import encodable, parts
from vigil.scan.matching import match_case
from vigil.scan.tasks import (
    NOT_AN_IMAGE,
    Done,
    SetsSpec,
    StoreSpec,
    Task,
    batches,
    expandable,
    iter_tasks,
    list_tasks,
    work_batch,
)
from vigil.settings import prepare_process, prepared
from vigil.signals import vpdq
from vigil.signals.pdq import PdqSignal
from vigil.store import Database
from vigil.store.caseitems import by_path, counts, type_counts
from vigil.store.cases import CaseRepository
from vigil.store.hashsets import HashsetRepository
from vigil.store.models import CaseItem
from vigil.store.scanruns import ScanRunRepository
from vigil.store.setindex import SetIndexStore

HIDDEN_FLAGS = frozenset({"extension-mismatch", "appended-data", "carved", "thumbnail-differs"})
Progress = Callable[[int, int | None], None]  # (done, total: None until the walk has ended)
COMMIT_SECONDS = 0.25  # at most this much finished work is redone after a kill
COMMIT_TASKS = 5000
IN_FLIGHT = 3  # batches per worker sent ahead of the results
ITEM_COLUMNS = tuple(getattr(CaseItem, key) for key in ROW_KEYS)
SHOWN_ITEMS = 10_000  # items of each kind in the HTML report (the JSON and CSV have them all)
SHOWN_GROUPS = 500  # duplicate groups whose members the HTML report lists


def is_hidden(flags: Iterable[str]) -> bool:
    """Content hidden from a look at the names: misnamed, appended, carved, swapped thumbnail. The
    summary's `hidden` and the HTML report's hidden section count the same items by this test."""
    return not HIDDEN_FLAGS.isdisjoint(flags)


class CaseResult:
    """A scanned case in the store: its summary at hand, its items read back when asked."""

    def __init__(self, db, case_id, case, source, summary, skipped, provenance):
        self.db, self.case_id, self.case, self.source = db, case_id, case, source
        self._summary, self.skipped, self.provenance = summary, skipped, provenance

    def summary(self) -> dict:
        return dict(self._summary)

    @property
    def duplicate_groups(self) -> int:
        return self._summary["duplicate_groups"]

    def head(self) -> dict:
        """The case JSON without its items."""
        return {
            "case": self.case,
            "source": self.source,
            "scan": self.provenance,
            "summary": self.summary(),
            "skipped": self.skipped,
        }

    def reports(self) -> Iterator[dict]:
        """Each item as the case JSON shows it, in path order, streamed from the store."""
        return (Item.from_row(row._mapping).report() for row in by_path(self.db, self.case_id, ITEM_COLUMNS))

    @property
    def items(self) -> list[Item]:
        """Every item, in path order (in memory: for a small case)."""
        return [Item.from_row(row._mapping) for row in by_path(self.db, self.case_id, ITEM_COLUMNS)]

    def report(self) -> dict:
        """The whole case JSON (in memory: for a small case; `vigil scan` streams it)."""
        return {**self.head(), "items": list(self.reports())}

    def selection(self, limit: int = SHOWN_ITEMS) -> dict:
        """The case JSON with only what the HTML report and the terminal summary show, bounded: up to
        `limit` items of each kind (hits, flagged, unreadable, members of the first duplicate
        groups), the counts of types, and the totals of hits and errors."""
        kinds = (
            CaseItem.matches != "[]",
            CaseItem.flags.is_not(None),
            CaseItem.error.is_not(None),
            CaseItem.duplicate_group <= SHOWN_GROUPS,
        )
        chosen: dict[int, dict] = {}
        for where in kinds:
            for row in islice(by_path(self.db, self.case_id, (CaseItem.id, *ITEM_COLUMNS), where), limit):
                chosen.setdefault(row.id, Item.from_row(row._mapping).report())
        s = self._summary
        return {
            **self.head(),
            "items": sorted(chosen.values(), key=lambda it: it["path"]),
            "types": type_counts(self.db, self.case_id, 12),
            "totals": {
                "hits": s["matched_exact"] + s["matched_near"],
                "errors": s["errors"],
                "invalid": s["invalid"],
            },
        }


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _local(
    batches: Iterable[list[Task]], sets: SetsSpec, workers: int, store: StoreSpec | None, on_stop: Callable
) -> Iterator:
    """Each batch's Done (with a `store` the workers write the rows). `on_stop` is called when the
    results end or fail, before the pool is shut down (whose feeder may be waiting in the walk)."""
    settings = prepared()
    work = partial(work_batch, sets=sets, store=store)
    if workers <= 1:
        prepare_process(settings, images=True)
        yield from (work(b) for b in batches)
        return
    # spawn: workers start clean, with no copy of the parent's database connections or threads, and
    # are prepared with the settings this process was (BLAS threads, image limits)
    context = multiprocessing.get_context("spawn")
    window, stop = threading.Semaphore(workers * IN_FLIGHT), threading.Event()
    with context.Pool(workers, prepare_process, (settings, True)) as pool:
        try:
            for done in pool.imap_unordered(work, _held(batches, window, stop)):
                window.release()
                yield done
        finally:
            stop.set()  # a feeder waiting for room gives up, so the pool can be shut down
            on_stop()


def _held(batches: Iterable[list[Task]], window: threading.Semaphore, stop: threading.Event) -> Iterator:
    """The batches, each let through only when the window has room: the pool's feeder thread would
    otherwise read the whole walk ahead into its queue (ten million paths in memory)."""
    for batch in batches:
        while not window.acquire(timeout=0.1):
            if stop.is_set():
                return
        yield batch


def _dask(batches: Iterable[list[Task]], sets: SetsSpec, address: str, on_stop: Callable) -> Iterator[Done]:
    """The same batches on a Dask distributed cluster; workers read the evidence from the same path.
    A feeder thread submits them, at most a few per worker thread ahead of the results (it may wait
    in the walk for the disk images' files, which need every walk task done first)."""
    from distributed import Client

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise VigilError(f"--dask {address}: cannot reach the scheduler: {exc}") from None
    with client:
        client.register_worker_callbacks(setup=partial(prepare_process, prepared(), True))
        window = threading.Semaphore(max(2, sum(client.nthreads().values())) * IN_FLIGHT)
        stop, finished = threading.Event(), queue.Queue()
        fed: list = [0, False, None]  # batches submitted, feeder done, its exception

        def feed() -> None:
            try:
                for batch in _held(batches, window, stop):
                    future = client.submit(work_batch, batch, sets=sets, pure=False)
                    fed[0] += 1
                    future.add_done_callback(finished.put)
            except Exception as exc:  # noqa: BLE001 - raised again by the scanning thread
                fed[2] = exc
            finally:
                fed[1] = True
                finished.put(None)  # wakes the loop below to see that the feeder is done

        threading.Thread(target=feed, name="dask-feeder", daemon=True).start()
        received = 0
        try:
            while not (fed[1] and received == fed[0]):
                future = finished.get()
                if future is None:
                    continue
                received += 1
                window.release()
                yield future.result()
                future.release()
        finally:
            stop.set()
            on_stop()
        if fed[2] is not None:
            raise fed[2]


def _results(
    batches: Iterable[list[Task]],
    sets: SetsSpec,
    workers: int,
    dask: str | None,
    store: StoreSpec | None = None,
    on_stop: Callable = lambda: None,
) -> Iterator:
    return _dask(batches, sets, dask, on_stop) if dask else _local(batches, sets, workers, store, on_stop)


def hash_evidence(
    root: Path,
    workers: int,
    progress: Progress | None = None,
    sets: SetsSpec = None,
    dask: str | None = None,
    skipped: list[tuple[str, str]] | None = None,
) -> list[Item]:
    """Every item under `root`, without a case store (for `vigil hashset add-files` and tests: a
    unit's own material, held in memory); entries not examined go to `skipped`."""
    tasks = list_tasks(root, skipped)
    walk = Walk(iter(tasks))
    results = _results(batches(walk), sets, workers, dask)
    items = [
        Item.from_values(row)
        for done in _counted(results, walk, 0, progress)
        for _, rows in done.rows
        for row in rows
    ]
    return sorted(items, key=lambda it: it.path)


class Walk:
    """The tasks as the walk yields them, counted (the progress bar's total grows with the walk).
    A walk that goes on from another (`after`: the files of the disk images found by the first)
    counts on from it."""

    def __init__(self, tasks: Iterator[Task], after: Walk | None = None):
        self.tasks, self.after, self.finished = tasks, after, False
        self._seen = 0

    @property
    def seen(self) -> int:
        return self._seen + (self.after.seen if self.after else 0)

    def __iter__(self) -> Iterator[Task]:
        for task in self.tasks:
            self._seen += 1
            yield task
        self.finished = True


def _counted(results: Iterable[Done], walk: Walk, done: int, progress: Progress | None) -> Iterator[Done]:
    """The results, with `progress(done, total)` after each batch; total is None until the walk ends
    (then it grows by the files of the disk images found)."""
    if progress:
        progress(done, None)
    for result in results:
        done += result.tasks
        if progress:
            progress(done, walk.seen if (walk.after or walk).finished else None)
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
    stage: Callable[[str], None] = lambda _name: None,
) -> CaseResult:
    """Scan `root` as `case`. With no enabled hash set to match against the scan is an error (it
    could only say "matched 0"), unless `allow_no_sets` asks for a scan that only hashes. A case of
    that name that exists already is never replaced in silence: only with `replace`, or by
    `resume` of the same evidence's run (which finishes that run). `stage` is told when the scan
    goes on from hashing to matching, grouping and counting.

    Items stream from the workers through this process, the single writer, into the case store;
    matching, grouping and the summary then read them back in bounded batches, so memory does not
    grow with the number of files."""
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
    opened = SetIndexStore(db).open_sets()
    sets_spec = (str(opened.folder), json.dumps(opened.manifest)) if opened.sets else None
    runs = ScanRunRepository(db)
    _refuse_to_replace(db, runs, case, source, resume, replace)
    run = runs.start(case, source, resume, threshold)
    provenance["started_at"] = iso_utc(runs.started_at(run.id))
    skipped: list[tuple[str, str]] = []
    done = DoneKeys(runs.done_keys(run.case_id) if run.resumed else ())
    images = FoundImages(_recorded_images(runs, run.case_id) if run.resumed else ())
    walk = Walk(iter_tasks(root, skipped, expand=False))
    inside = Walk(images.tasks(), walk)
    todo = chain(
        images.walk_batches(batches(walk), done.remaining),
        (left for batch in batches(inside) if (left := done.remaining(batch))),
    )
    store = None if dask else _shared_target(db, run.case_id)  # local workers write their own rows
    results = _results(todo, sets_spec, workers or default_workers(), dask, store, images.cancel)
    _record(runs, run.case_id, _counted(results, inside, len(done), progress), images)
    for key in images.invalid:  # every row is stored now
        runs.flag(run.case_id, key, NOT_AN_IMAGE)
    stage("matching")  # after the hashing, each of these reads the whole case once more
    counts = match_case(db, run.case_id, threshold)
    stage("grouping")
    groups = group_case(db, run.case_id, threshold)
    stage("counting")
    skipped_rows = [{"path": path, "reason": reason} for path, reason in skipped]
    summary = case_summary(db, run.case_id, counts, groups, len(skipped_rows))
    provenance["finished_at"] = iso_utc(datetime.now(UTC))
    runs.finish(run.id, run.case_id, case, summary, provenance, skipped_rows)
    return CaseResult(db, run.case_id, case, source, summary, skipped_rows, provenance)


def _shared_target(db: Database, case_id: int) -> StoreSpec | None:
    """Where local worker processes can write the case: the database file or server (not a
    database that lives in this process's memory)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return (url.database, case_id) if url.database and url.database != ":memory:" else None
    return url.render_as_string(hide_password=False), case_id


def _recorded_images(runs: ScanRunRepository, case_id: int) -> list[str]:
    """The keys of the disk images among a resumed run's recorded evidence files."""
    return [
        r.path
        for r in runs.recorded_of_type(case_id, DISK_IMAGE)
        if len(parts(r.path)) == 1
        and expandable(Task(r.path, ""), Item(r.path, r.size, DISK_IMAGE, flags=json.loads(r.flags or "[]")))
    ]


def _record(runs: ScanRunRepository, case_id: int, results: Iterable[Done], images: FoundImages) -> None:
    """Store finished tasks as they come, when the workers sent their rows back (a Dask cluster's):
    a transaction every quarter second or COMMIT_TASKS tasks; note the disk images found."""
    buffer: list[tuple[str, list[dict]]] = []
    last = time.monotonic()
    for result in results:
        images.add(result.images)
        if result.rows is None:  # stored by the worker
            images.completed(result.tasks)
            continue
        buffer.extend(result.rows)
        if len(buffer) >= COMMIT_TASKS or time.monotonic() - last >= COMMIT_SECONDS:
            runs.record(case_id, ROW_KEYS, buffer, len(PLAIN_KEYS))
            buffer, last = [], time.monotonic()
        images.completed(result.tasks)
    runs.record(case_id, ROW_KEYS, buffer, len(PLAIN_KEYS))


class DoneKeys:
    """The keys of the tasks a resumed run has recorded, as 16-byte BLAKE2b digests in one sorted
    array: 16 bytes a task (not a set of strings), and a batch is checked in one search."""

    def __init__(self, key_batches: Iterable[list[str]]):
        parts = [np.array([_digest(k) for k in keys], dtype="S16") for keys in key_batches]
        self.keys = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype="S16")

    def __len__(self) -> int:
        return len(self.keys)

    def remaining(self, batch: list[Task]) -> list[Task]:
        """The tasks of `batch` not recorded yet."""
        if not len(self.keys):
            return batch
        wanted = np.array([_digest(t.key) for t in batch], dtype="S16")
        at = np.searchsorted(self.keys, wanted).clip(max=len(self.keys) - 1)
        recorded = self.keys[at] == wanted
        return [t for t, r in zip(batch, recorded, strict=True) if not r]


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def case_summary(db: Database, case_id: int, matched: dict, groups: int, skipped: int) -> dict:
    """The case's counts (the summary table, in its documented order), counted by the database."""
    flagged = {
        "invalid": NOT_VALID_FLAGS,
        "hidden": HIDDEN_FLAGS,
        "encrypted": ("encrypted",),
        "deleted": ("deleted",),
        "empty": ("empty",),
    }
    n = counts(db, case_id, flagged)
    return {
        "files": n["files"],
        "images": n["images"],
        "videos": n["videos"],
        "known": n["known"],
        "errors": n["errors"],
        "invalid": n["invalid"],
        "matched_exact": matched["matched_exact"],
        "matched_near": matched["matched_near"],
        "hidden": n["hidden"],
        "encrypted": n["encrypted"],
        "deleted": n["deleted"],
        "duplicate_groups": groups,
        "disputed": matched["disputed"],
        "empty": n["empty"],
        "skipped": skipped,
    }

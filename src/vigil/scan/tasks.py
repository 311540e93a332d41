"""The units of scan work, and doing one of them.

A task is one evidence file, or one file inside a disk image (so the files of a 1 TB image spread over
every worker and every machine, and a resumed scan skips them one by one). Its key is its logical
path, which is stable between runs. Doing a task gives the case store's rows of its items; it runs
the same in a local worker process and on a Dask worker. Workers get tasks in batches.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from vigil.media import diskimage
from vigil.scan.exactmatch import match_exact
from vigil.scan.hashing import IN_MEMORY_BYTES, NOT_VALID, PLAIN_KEYS, ROW_KEYS, Hasher, Item
from vigil.scan.locations import join
from vigil.scan.walk import Skipped, evidence_files
from vigil.store.setfolder import OpenSets

# the sets a worker matches against: (index folder, its manifest as JSON), or None for none (a
# worker opens them once, memory-mapped); known-good sets among them eliminate files
SetsSpec = tuple[str, str] | None
StoreSpec = tuple[str, int]  # (database path or URL, id of the case being built)
NOT_AN_IMAGE = f"{NOT_VALID}disk-image"


class Done(NamedTuple):
    """A batch's result, as a worker sends it back."""

    tasks: int
    rows: list[tuple[str, list[tuple]]] | None  # (key, item rows) of each task; None: stored already
    images: list[tuple[str, str]]  # (key, fs_path) of the disk images among the batch's files


BATCH_FIRST, BATCH_TASKS = 16, 1024  # tasks sent to a worker at once: the first batches, the most


class Task(NamedTuple):
    key: str  # logical path
    fs_path: str
    inode: int = -1  # >= 0: a file inside the disk image at fs_path
    offset: int = 0  # its file system's offset in the image
    deleted: bool = False
    flags: tuple[str, ...] = ()  # flags the walk found for the task's first item


def is_disk_image(fs_path: str) -> bool:
    """Raw images are whole sectors: only files of a multiple of 512 bytes are opened to look."""
    try:
        size = os.path.getsize(fs_path)
        if size < diskimage.MIN_IMAGE_BYTES or size % 512:
            return False
        with open(fs_path, "rb") as fh:
            return diskimage.looks_like_disk_image(fh.read(2048))
    except OSError:
        return False


def iter_tasks(root: Path, skipped: Skipped | None = None, expand: bool = True) -> Iterator[Task]:
    """Every task under `root`, as the walk finds them (name order, depth first): a stream, so ten
    million files never sit in a list. Disk images expand into their files here when `expand`;
    the scan leaves that to `vigil.scan.imagetasks` (no look into every file by the walk). Entries
    that are not examined (links, pipes, devices, unreadable folders) go to `skipped` with the
    reason."""
    for fs_path, logical in evidence_files(root, skipped):
        if not expand or not is_disk_image(fs_path):
            yield Task(logical, fs_path)
            continue
        try:
            inside = image_tasks(logical, fs_path)
        except diskimage.DiskImageError:  # hashed as a plain file, flagged as not a readable image
            yield Task(logical, fs_path, flags=(NOT_AN_IMAGE,))
            continue
        yield Task(logical, fs_path)
        yield from inside


def image_tasks(key: str, fs_path: str) -> list[Task]:
    """The tasks of the files inside the disk image at `fs_path`, in key order (a deleted file may
    have a live one's path: the second is `\\#2`). Raises diskimage.DiskImageError."""
    seen: dict[str, int] = {}
    inside = []
    for f in diskimage.list_files(fs_path):
        ordinal = seen[f.path] = seen.get(f.path, 0) + 1
        inside.append(Task(join(key, f.path, ordinal), fs_path, f.inode, f.offset, f.deleted))
    return sorted(inside, key=lambda t: t.key)


def expandable(task: Task, item: Item) -> bool:
    """Is the file of a walk task a disk image whose files become tasks? (raw images are whole
    sectors)"""
    size = item.size or 0
    return (
        task.inode < 0
        and item.type == diskimage.DISK_IMAGE
        and size >= diskimage.MIN_IMAGE_BYTES
        and size % 512 == 0
        and NOT_AN_IMAGE not in item.flags
    )


def list_tasks(root: Path, skipped: Skipped | None = None) -> list[Task]:
    """Every task under `root`, in key order (for a small tree; the scan streams `iter_tasks`)."""
    return sorted(iter_tasks(root, skipped), key=lambda t: t.key)


def batches(
    tasks: Iterable[Task], smallest: int = BATCH_FIRST, largest: int = BATCH_TASKS
) -> Iterator[list[Task]]:
    """Tasks in lists: a worker is sent a batch, so the cost of a round trip between processes (and
    of a transaction, when the worker writes its rows) is paid once per batch, not once per small
    file. Batches grow with the walk, from `smallest` to `largest` tasks (an eighth of the tasks
    seen so far): a small folder of large pictures still spreads over every worker, and a disk of
    ten million small files travels in large batches."""
    batch: list[Task] = []
    for seen, task in enumerate(tasks, start=1):
        batch.append(task)
        if len(batch) >= min(largest, max(smallest, seen // 8)):
            yield batch
            batch = []
    if batch:
        yield batch


_opened: dict[tuple[str, str], tuple[OpenSets, object]] = {}


def _open(spec: SetsSpec) -> tuple[OpenSets | None, object]:
    """This worker's sets (opened on its first batch) and its known-good look-up."""
    if spec is None:
        return None, None
    if spec not in _opened:
        _opened.clear()  # one scan's sets at a time (a worker only ever sees one)
        folder, manifest = spec
        sets = OpenSets(Path(folder), json.loads(manifest))
        known = [(s.name, s.exact) for s in sets.sets if s.known]

        def lookup(digests: dict[str, bytes]) -> str | None:
            return next((name for name, seg in known if seg.contains_any(digests)), None)

        _opened[spec] = (sets, lookup if known else None)
    return _opened[spec]


def _items(task: Task, known) -> list[Item] | tuple:
    hasher = Hasher(dihedral=True, known=known)
    if task.inode < 0:
        if not task.flags:
            return hasher.file_or_row(task.fs_path, task.key)  # a plain file's row, or items
        items = hasher.file(task.fs_path, task.key)
        for name in task.flags:
            items[0].flag(name)
        return items
    try:
        data = diskimage.read_file(task.fs_path, task.offset, task.inode, IN_MEMORY_BYTES)
    except (diskimage.DiskImageError, OSError) as exc:
        items = [Item(path=task.key, error=str(exc))]
    else:
        items = hasher.data(data, task.key)
    if task.deleted:
        items[0].flag("deleted")
    return items


def _task_items(task: Task, known) -> list[Item] | tuple:
    """A task's items, or a plain file's row (`Hasher.file_or_row`). A bug tripped by one odd file
    becomes its error, not a dead scan."""
    try:
        return _items(task, known)
    except Exception as exc:  # noqa: BLE001 - reported on the item, the scan goes on
        return [Item(path=task.key, error=f"internal error while hashing: {type(exc).__name__}: {exc}")]


def do_task(task: Task, sets: SetsSpec = None) -> tuple[str, list[tuple]]:
    """(key, item rows: `Item.row`) of one task."""
    return do_tasks([task], sets)[0]


def do_tasks(tasks: list[Task], sets: SetsSpec = None) -> list[tuple[str, list[tuple]]]:
    """A batch of tasks: each task's key and item rows."""
    return _rows(_hash_batch(tasks, sets))


def _hash_batch(tasks: list[Task], sets: SetsSpec) -> list[tuple[Task, list[Item] | tuple]]:
    """Each task's items (or plain row), with the batch's exact matches found in one search per
    signal: a plain file that a set lists becomes an item, to carry its matches."""
    opened, known = _open(sets)
    done = [(t, _task_items(t, known)) for t in tasks]
    if opened is not None:
        listed = _listed_plain(done, opened)
        done = [(t, _as_items(found) if i in listed else found) for i, (t, found) in enumerate(done)]
        match_exact([it for _, found in done if not isinstance(found, tuple) for it in found], opened)
    return done


def _listed_plain(done: list[tuple[Task, list[Item] | tuple]], sets: OpenSets) -> set[int]:
    """The positions in `done` of the plain rows whose digests a (not known-good) set lists."""
    plain = [(i, found) for i, (_, found) in enumerate(done) if isinstance(found, tuple)]
    listed: set[int] = set()
    for at, name in enumerate(PLAIN_KEYS[3:], start=3):  # md5, sha1, sha256
        where: dict[bytes, list[int]] = {}  # copies of one file in a batch: all of them
        for i, row in plain:
            where.setdefault(bytes.fromhex(row[at]), []).append(i)
        if where:
            listed.update(i for v in sets.exact(name, list(where)) for i in where[v])
    return listed


def _as_items(row: tuple) -> list[Item]:
    return [Item.from_values(row)]


def _rows(done: list[tuple[Task, list[Item] | tuple]]) -> list[tuple[str, list[tuple]]]:
    return [
        (task.key, [found] if isinstance(found, tuple) else [it.row() for it in found])
        for task, found in done
    ]


_stores: dict = {}  # database target -> ScanRunRepository


def work_batch(tasks: list[Task], sets: SetsSpec, store: StoreSpec | None = None) -> Done:
    """A batch of tasks done (a local worker's or a cluster's unit of work). With a `store`, the
    worker writes the rows to the case store itself, in one transaction: rows are not sent back to
    the scanning process, whose only work is then the walk (no single writer to wait for, no rows
    pickled twice)."""
    done = _hash_batch(tasks, sets)
    images = [
        (task.key, task.fs_path)
        for task, found in done
        if not isinstance(found, tuple) and expandable(task, found[0])
    ]
    rows = _rows(done)
    if store is None:
        return Done(len(tasks), rows, images)
    from vigil.store.db import open_database
    from vigil.store.scanruns import ScanRunRepository

    target, case_id = store
    if target not in _stores:  # one database open at a time (a worker only ever sees one)
        for old in _stores.values():
            old.db.engine.dispose()
        _stores.clear()
        _stores[target] = ScanRunRepository(open_database(target, create=False))
    _stores[target].record(case_id, ROW_KEYS, rows, len(PLAIN_KEYS))
    return Done(len(tasks), None, images)

"""The units of scan work, and doing one of them.

A task is one evidence file, or one file inside a disk image (so the files of a 1 TB image spread over
every worker and every machine, and a resumed scan skips them one by one). Its key is its logical
path, which is stable between runs. Doing a task gives the case store's rows of its items; it runs
the same in a local worker process and on a Dask worker. Workers get tasks in batches.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from vigil.index.exact import ExactSegment
from vigil.media import diskimage
from vigil.scan.hashing import IN_MEMORY_BYTES, NOT_VALID, Hasher, Item
from vigil.scan.locations import join
from vigil.scan.walk import Skipped, evidence_files

KnownSets = tuple[tuple[str, str], ...]  # (set name, segment folder) of each known-good set
BATCH_TASKS = 128  # tasks sent to a worker at once


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


def iter_tasks(root: Path, skipped: Skipped | None = None) -> Iterator[Task]:
    """Every task under `root`, as the walk finds them (name order, depth first; disk images expand
    into their files): a stream, so ten million files never sit in a list. Entries that are not
    examined (links, pipes, devices, unreadable folders) go to `skipped` with the reason."""
    for fs_path, logical in evidence_files(root, skipped):
        if not is_disk_image(fs_path):
            yield Task(logical, fs_path)
            continue
        try:
            files = diskimage.list_files(fs_path)
        except diskimage.DiskImageError:  # hashed as a plain file, flagged as not a readable image
            yield Task(logical, fs_path, flags=(f"{NOT_VALID}disk-image",))
            continue
        yield Task(logical, fs_path)
        seen: dict[str, int] = {}  # a deleted file may have a live one's path: the 2nd is `\\#2`
        inside = []
        for f in files:
            ordinal = seen[f.path] = seen.get(f.path, 0) + 1
            inside.append(Task(join(logical, f.path, ordinal), fs_path, f.inode, f.offset, f.deleted))
        yield from sorted(inside, key=lambda t: t.key)


def list_tasks(root: Path, skipped: Skipped | None = None) -> list[Task]:
    """Every task under `root`, in key order (for a small tree; the scan streams `iter_tasks`)."""
    return sorted(iter_tasks(root, skipped), key=lambda t: t.key)


def batches(tasks: Iterable[Task], size: int = BATCH_TASKS) -> Iterator[list[Task]]:
    """Tasks in lists of `size`: a worker is sent a batch, so the cost of a round trip between
    processes is paid once per batch, not once per small file."""
    batch: list[Task] = []
    for task in tasks:
        batch.append(task)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_known_cache: dict[tuple, list] = {}


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


def _items(task: Task, known: KnownSets) -> list[Item]:
    hasher = Hasher(dihedral=True, known=_known(known))
    if task.inode < 0:
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


def do_task(task: Task, known: KnownSets = ()) -> tuple[str, list[tuple]]:
    """(key, item rows: `Item.row`). A bug tripped by one odd file becomes its error, not a dead scan."""
    try:
        items = _items(task, known)
    except Exception as exc:  # noqa: BLE001 - reported on the item, the scan goes on
        items = [Item(path=task.key, error=f"internal error while hashing: {type(exc).__name__}: {exc}")]
    return task.key, [it.row() for it in items]


def do_tasks(tasks: list[Task], known: KnownSets = ()) -> list[tuple[str, list[tuple]]]:
    """A batch of tasks, done in one call (a local worker's or a cluster's unit of work)."""
    return [do_task(t, known) for t in tasks]

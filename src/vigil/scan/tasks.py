"""The units of scan work, and doing one of them.

A task is one evidence file, or one file inside a disk image (so the files of a 1 TB image spread over
every worker and every machine, and a resumed scan skips them one by one). Its key is its logical
path, which is stable between runs. Doing a task gives the JSON state of its items, which is what
the case store records; it runs the same in a local worker process and on a Dask worker.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from vigil.index.exact import ExactSegment
from vigil.media import diskimage
from vigil.scan.hashing import IN_MEMORY_BYTES, Hasher, Item
from vigil.scan.locations import join
from vigil.scan.walk import Skipped, evidence_files

KnownSets = tuple[tuple[str, str], ...]  # (set name, segment folder) of each known-good set


class Task(NamedTuple):
    key: str  # logical path
    fs_path: str
    inode: int = -1  # >= 0: a file inside the disk image at fs_path
    offset: int = 0  # its file system's offset in the image
    deleted: bool = False


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


def list_tasks(root: Path, skipped: Skipped | None = None) -> list[Task]:
    """Every task under `root`, in key order; disk images expand into their files. Entries that are
    not examined (links, pipes, devices, unreadable folders) go to `skipped` with the reason."""
    tasks: list[Task] = []
    for fs_path, logical in evidence_files(root, skipped):
        tasks.append(Task(logical, fs_path))
        if is_disk_image(fs_path):
            try:
                files = diskimage.list_files(fs_path)
            except diskimage.DiskImageError:
                continue  # hashed as a plain file; its item says it is not a readable image
            seen: dict[str, int] = {}  # a deleted file may have a live one's path: the 2nd is `\\#2`
            for f in files:
                ordinal = seen[f.path] = seen.get(f.path, 0) + 1
                key = join(logical, f.path, ordinal)
                tasks.append(Task(key, fs_path, f.inode, f.offset, f.deleted))
    return sorted(tasks, key=lambda t: t.key)


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
        return hasher.file(task.fs_path, task.key)
    try:
        data = diskimage.read_file(task.fs_path, task.offset, task.inode, IN_MEMORY_BYTES)
    except (diskimage.DiskImageError, OSError) as exc:
        items = [Item(path=task.key, error=str(exc))]
    else:
        items = hasher.data(data, task.key)
    if task.deleted:
        items[0].flag("deleted")
    return items


def do_task(task: Task, known: KnownSets = ()) -> tuple[str, list[dict]]:
    """(key, item states). A bug tripped by one odd file becomes that file's error, not a dead scan."""
    try:
        items = _items(task, known)
    except Exception as exc:  # noqa: BLE001 - reported on the item, the scan goes on
        items = [Item(path=task.key, error=f"internal error while hashing: {type(exc).__name__}: {exc}")]
    return task.key, [it.state() for it in items]


def do_tasks(tasks: list[Task], known: KnownSets = ()) -> list[tuple[str, list[dict]]]:
    """A batch of tasks: one call per batch keeps a cluster's scheduler overhead per file small."""
    return [do_task(t, known) for t in tasks]

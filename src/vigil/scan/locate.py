"""Reading items back by their location — `a.zip!b/c.jpg`, `a.zip!dup.jpg\\#2`, `usb.dd!p1/DCIM/x.jpg`,
`photo.jpg!exif-thumbnail.jpg`, `doc.pdf!@1234.jpg`, or the same as a `location` list — from the
evidence, for thumbnails in the report. Evidence is read where it is; nothing is extracted or kept.

A member is found by its exact name and ordinal (the Nth member of that name), the same way the scan
numbered it, so a location reads back exactly the bytes the scan hashed. `read_many` reads many
locations at once, grouped by container: each evidence file, disk image and container on the way is
opened and decompressed once for all the items wanted inside it, and only the wanted members are
read where the format allows (zip, 7z: by entry; tar: the stream is passed over, unwanted members
are skipped without being read into memory). The members not read still count against the budget
with the size the scan read of them, so a read-back stops where the scan stopped.

Reading back keeps the scan's guards (hashing.Limits): no deeper than `max_depth` containers, and at
most `max_expanded_bytes` decompressed for one evidence file (or one file of a disk image), counted
over every member read (an archive bomb costs the report no more than it cost the scan).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from vigil.media import carving, containers, diskimage
from vigil.media.sniff import HEAD_BYTES, is_archive, sniff
from vigil.scan import locations
from vigil.scan.hashing import Limits
from vigil.scan.tasks import is_disk_image

MAX_BYTES = 64 << 20
Where = str | Sequence[str]  # a `path` string or a `location` list
Key = tuple[str, int]  # (exact name, ordinal)


class _Probe:
    """Enough of an item for carving.carve."""

    def __init__(self, path: str, head: bytes):
        self.path, self.type, self.flags = path, sniff(head[:HEAD_BYTES]), []
        self.pdq = self.pdq_quality = None

    def flag(self, name: str) -> None:
        self.flags.append(name)


class _Budget:
    def __init__(self, limits: Limits):
        self.left = limits.max_expanded_bytes

    def take(self, n: int) -> bool:
        self.left -= n
        return self.left >= 0


class _Node:
    """The locations wanted at one place: `ends` want its bytes, `children` places inside it."""

    __slots__ = ("ends", "children")

    def __init__(self) -> None:
        self.ends: list[int] = []
        self.children: dict[Key, _Node] = {}


def _tree(wanted: Sequence[Where], limits: Limits) -> dict[str, _Node]:
    """The wanted locations as a tree: evidence file name → member keys → …"""
    roots: dict[str, _Node] = {}
    for index, where in enumerate(wanted):
        (first, _), *rest = locations.parts(where)
        if len(rest) > limits.max_depth or not _plain(first):
            continue
        node = roots.setdefault(first, _Node())
        for key in rest:
            node = node.children.setdefault(key, _Node())
        node.ends.append(index)
    return roots


def _plain(first: str) -> bool:
    """A path the walk could have written: relative, without `.` or `..` components."""
    return (
        bool(first) and not first.startswith("/") and all(p not in ("", ".", "..") for p in first.split("/"))
    )


def read_many(
    root: Path,
    wanted: Sequence[Where],
    limits: Limits = Limits(),  # noqa: B008 - frozen
) -> Iterator[tuple[int, bytes]]:
    """(index in `wanted`, bytes) of each location under evidence `root` (a folder or one file) that
    can be read within the guards; the others are left out. Each container is opened once."""
    for first, node in _tree(wanted, limits).items():
        fs_path = root if root.is_file() else root / first
        try:
            if not fs_path.is_file() or (fs_path != root and fs_path.is_symlink()):  # links: never items
                continue
            yield from _evidence_file(fs_path, locations.path_of([first]), node, limits)
        except (OSError, diskimage.DiskImageError):
            continue


def _evidence_file(fs_path: Path, path: str, node: _Node, limits: Limits) -> Iterator[tuple[int, bytes]]:
    children = node.children
    if children and is_disk_image(str(fs_path)):
        seen: dict[str, int] = {}
        for f in diskimage.list_files(str(fs_path)):
            ordinal = seen[f.path] = seen.get(f.path, 0) + 1
            child = children.pop((f.path, ordinal), None)
            if child is not None:  # a file of the image: a task of its own, with its own budget
                data = diskimage.read_file(str(fs_path), f.offset, f.inode, MAX_BYTES)
                inner = locations.join(path, f.path, ordinal)
                yield from _emit(child, data, inner, _Budget(limits))
            if not children and not node.ends:
                return
    size = fs_path.stat().st_size
    if size <= MAX_BYTES:
        yield from _emit(node, fs_path.read_bytes(), path, _Budget(limits))
    elif children:  # too large to hold: its members can still be read from the file
        with open(fs_path, "rb") as fh:
            yield from _members(fh, fh.read(HEAD_BYTES), path, node, _Budget(limits))


def _emit(node: _Node, data: bytes, path: str, budget: _Budget) -> Iterator[tuple[int, bytes]]:
    for index in node.ends:
        yield index, data
    if node.children:
        yield from _members(io.BytesIO(data), data, path, node, budget)
        if node.children:  # what is not a member may be carved from the bytes
            probe = _Probe(path, data)
            for c in carving.carve(data, probe):
                child = node.children.pop((c.name, 1), None)
                if child is not None:
                    yield from _emit(child, c.data, locations.join(path, c.name), budget)
                if not node.children:
                    break


def _members(
    source: BinaryIO, head: bytes, path: str, node: _Node, budget: _Budget
) -> Iterator[tuple[int, bytes]]:
    """The wanted members of the container at `path`, in one pass over it."""
    kind = sniff(head[:HEAD_BYTES])
    if not is_archive(kind):
        return
    source.seek(0)
    keys = set(node.children)
    try:
        found = containers.members(source, kind, locations.basename(path), max(budget.left, 0), keys)
        for member in found:
            held = member.size if member.unread else len(member.data or b"")
            if not budget.take(held):
                return  # over the expansion budget: the scan did not go on either
            if member.data is None:
                continue  # not wanted, an error, or too large to hold (the scan did not decode it)
            child = node.children.pop((member.name, member.ordinal), None)
            if child is not None:
                inner = locations.join(path, member.name, member.ordinal)
                yield from _emit(child, member.data, inner, budget)
            if not node.children:
                return
    except containers.ArchiveError:
        return


def read_logical(
    root: Path,
    logical: Where,
    limits: Limits = Limits(),  # noqa: B008 - frozen
) -> bytes | None:
    """The bytes of the item at `logical` (a `path` string or a `location` list) under evidence `root`
    (a folder or one file), or None when it cannot be read or is beyond the expansion guards."""
    return next((data for _, data in read_many(root, [logical], limits)), None)

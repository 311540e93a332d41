"""Reading an item back by its location — `a.zip!b/c.jpg`, `usb.dd!p1/DCIM/x.jpg`,
`photo.jpg!exif-thumbnail.jpg`, `doc.pdf!@1234.jpg`, or the same as a `location` list — from the
evidence, for thumbnails in the report. Evidence is read where it is; nothing is extracted or kept.

Reading back opens containers, so it keeps the scan's guards (hashing.Limits): no deeper than
`max_depth` containers, and at most `max_expanded_bytes` decompressed for one item, counted over
every member read on the way (an archive bomb costs a thumbnail no more than it cost the scan).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from vigil.media import carving, containers, diskimage
from vigil.media.sniff import HEAD_BYTES, is_archive, sniff
from vigil.scan import locations
from vigil.scan.hashing import Limits
from vigil.scan.tasks import is_disk_image

MAX_BYTES = 64 << 20


class _Probe:
    """Enough of an item for carving.carve."""

    def __init__(self, path: str, data: bytes):
        self.path, self.type, self.flags = path, sniff(data[:HEAD_BYTES]), []
        self.pdq = self.pdq_quality = None

    def flag(self, name: str) -> None:
        self.flags.append(name)


class _Budget:
    def __init__(self, limits: Limits):
        self.left = limits.max_expanded_bytes

    def take(self, n: int) -> bool:
        self.left -= n
        return self.left >= 0


def _child(data: bytes, path: str, name: str, budget: _Budget) -> bytes | None:
    probe = _Probe(path, data)
    if is_archive(probe.type):
        try:
            members = containers.members(
                io.BytesIO(data), probe.type, locations.basename(path), max(budget.left, 0)
            )
            for member in members:
                if member.data is not None and not budget.take(len(member.data)):
                    return None  # over the expansion budget: no thumbnail, as the scan did not go on
                if member.name == name:
                    return member.data
        except containers.ArchiveError:
            return None
    return next((c.data for c in carving.carve(data, probe) if c.name == name), None)


def read_logical(
    root: Path,
    logical: str | Sequence[str],
    limits: Limits = Limits(),  # noqa: B008 - frozen
) -> bytes | None:
    """The bytes of the item at `logical` (a `path` string or a `location` list) under evidence `root`
    (a folder or one file), or None when it cannot be read or is beyond the expansion guards."""
    first, *rest = locations.names(logical)
    if len(rest) > limits.max_depth:
        return None
    budget = _Budget(limits)
    fs_path = root if root.is_file() else root / first
    try:
        if not fs_path.is_file() or (fs_path != root and fs_path.is_symlink()):  # links: never items
            return None
        if rest and is_disk_image(str(fs_path)):
            for f in diskimage.list_files(str(fs_path)):
                if f.path == rest[0]:
                    data = diskimage.read_file(str(fs_path), f.offset, f.inode, MAX_BYTES)
                    return _descend(data, locations.path_of([first, rest[0]]), rest[1:], budget)
            return None
        if fs_path.stat().st_size > MAX_BYTES:
            return None
        return _descend(fs_path.read_bytes(), locations.path_of([first]), rest, budget)
    except (OSError, diskimage.DiskImageError):
        return None


def _descend(data: bytes | None, path: str, rest: list[str], budget: _Budget) -> bytes | None:
    for name in rest:
        if data is None:
            return None
        data = _child(data, path, name, budget)
        path = locations.join(path, name)
    return data

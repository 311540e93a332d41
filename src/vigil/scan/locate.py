"""Reading an item back by its logical path — `a.zip!b/c.jpg`, `usb.dd!p1/DCIM/x.jpg`,
`photo.jpg!exif-thumbnail.jpg`, `doc.pdf!@1234.jpg` — from the evidence, for thumbnails in the
report. Evidence is read where it is; nothing is extracted or kept."""

from __future__ import annotations

import io
from pathlib import Path

from vigil.media import carving, containers, diskimage
from vigil.media.sniff import HEAD_BYTES, is_archive, sniff
from vigil.scan.tasks import is_disk_image

MAX_BYTES = 64 << 20


class _Probe:
    """Enough of an item for carving.carve."""

    def __init__(self, path: str, data: bytes):
        self.path, self.type, self.flags = path, sniff(data[:HEAD_BYTES]), []
        self.pdq = self.pdq_quality = None

    def flag(self, name: str) -> None:
        self.flags.append(name)


def _child(data: bytes, path: str, name: str) -> bytes | None:
    probe = _Probe(path, data)
    if is_archive(probe.type):
        try:
            for member in containers.members(io.BytesIO(data), probe.type, path):
                if member.name == name:
                    return member.data
        except containers.ArchiveError:
            return None
    return next((c.data for c in carving.carve(data, probe) if c.name == name), None)


def read_logical(root: Path, logical: str) -> bytes | None:
    """The bytes of the item at `logical` under evidence `root` (a folder or one file), or None."""
    first, *rest = logical.split(containers.SEPARATOR)
    fs_path = root if root.is_file() else root / first
    try:
        if not fs_path.is_file():
            return None
        if rest and is_disk_image(str(fs_path)):
            for f in diskimage.list_files(str(fs_path)):
                if f.path == rest[0]:
                    data = diskimage.read_file(str(fs_path), f.offset, f.inode, MAX_BYTES)
                    return _descend(data, f"{first}{containers.SEPARATOR}{rest[0]}", rest[1:])
            return None
        if fs_path.stat().st_size > MAX_BYTES:
            return None
        return _descend(fs_path.read_bytes(), first, rest)
    except (OSError, diskimage.DiskImageError):
        return None


def _descend(data: bytes | None, path: str, rest: list[str]) -> bytes | None:
    for name in rest:
        if data is None:
            return None
        data = _child(data, path, name)
        path = f"{path}{containers.SEPARATOR}{name}"
    return data

"""Files in raw (`dd`) disk images — FAT, exFAT, NTFS, ext2/3/4, HFS+ and more — through The Sleuth
Kit (`pytsk3`), including deleted files the file system still lists.

Paths are `image!pN/dir/file` (N counts the image's allocated partitions from 1) or `image!fs/...`
for an image of a single file system with no partition table. Files are read straight from the
image: nothing is mounted or extracted. Listing is done once (by the scan's coordinator); reading
is by (partition offset, inode address), so any worker can read any file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

MIN_IMAGE_BYTES = 64 << 10
DISK_IMAGE = "application/x-disk-image"
_MAX_DEPTH = 64


@dataclass(frozen=True)
class ImageFile:
    path: str  # inside the image: "p1/DCIM/IMG_1.jpg"
    offset: int  # byte offset of its file system in the image
    inode: int
    size: int
    deleted: bool


class DiskImageError(Exception):
    """The image or one of its file systems cannot be read."""


def looks_like_disk_image(head: bytes) -> bool:
    """A partition table (MBR/GPT) or a file system boot sector/superblock, from the first 2 KiB."""
    if len(head) < 1084:
        return False
    if head[1080:1082] == b"\x53\xef":  # ext2/3/4 superblock magic
        return True
    if head[3:11] in (b"NTFS    ", b"EXFAT   "):
        return True
    if head[510:512] != b"\x55\xaa":
        return False
    if head[512:520] == b"EFI PART" or head[54:59] in (b"FAT12", b"FAT16") or head[82:87] == b"FAT32":
        return True
    # an MBR: four 16-byte entries with status 0x00 or 0x80 and at least one non-empty type
    entries = [head[446 + 16 * i : 462 + 16 * i] for i in range(4)]
    return all(e[0] in (0, 0x80) for e in entries) and any(e[4] for e in entries)


def _partitions(img) -> list[tuple[str, int]]:
    import pytsk3

    try:
        volume = pytsk3.Volume_Info(img)
    except OSError:
        return [("fs", 0)]
    out, n = [], 0
    for part in volume:
        if part.flags == pytsk3.TSK_VS_PART_FLAG_ALLOC and part.len > 0:
            n += 1
            out.append((f"p{n}", part.start * volume.info.block_size))
    return out


def _walk(fs, directory, prefix: str, seen: set[int], depth: int) -> Iterator[tuple[str, int, int, bool]]:
    import pytsk3

    if depth > _MAX_DEPTH:
        return
    for entry in directory:
        info = entry.info
        name = info.name.name.decode("utf-8", "replace")
        if name in (".", "..") or info.meta is None:
            continue
        deleted = bool(int(info.name.flags) & int(pytsk3.TSK_FS_NAME_FLAG_UNALLOC))
        kind = info.meta.type
        path = f"{prefix}/{name}"
        if kind == pytsk3.TSK_FS_META_TYPE_DIR:
            if info.meta.addr in seen or name.startswith("$"):  # loops; NTFS metadata folders
                continue
            seen.add(info.meta.addr)
            try:
                yield from _walk(fs, entry.as_directory(), path, seen, depth + 1)
            except OSError:
                continue
        elif kind == pytsk3.TSK_FS_META_TYPE_REG:
            if depth == 0 and name.startswith("$"):  # NTFS system files ($MFT, $Bitmap, ...)
                continue
            yield path, info.meta.addr, info.meta.size, deleted


def list_files(image_path: str) -> list[ImageFile]:
    """Every regular file (deleted ones included) of every file system in the image, sorted."""
    import pytsk3

    try:
        img = pytsk3.Img_Info(image_path)
    except OSError as exc:
        raise DiskImageError(f"cannot open disk image: {exc}") from None
    out: list[ImageFile] = []
    readable = 0
    for label, offset in _partitions(img):
        try:
            fs = pytsk3.FS_Info(img, offset=offset)
        except OSError:
            continue  # swap, unformatted, or a file system TSK does not know
        readable += 1
        for path, inode, size, deleted in _walk(fs, fs.open_dir(path="/"), label, set(), 0):
            out.append(ImageFile(path, offset, inode, size, deleted))
    if not readable:
        raise DiskImageError("no readable file system in the disk image")
    return sorted(out, key=lambda f: f.path)


_open: dict[tuple[str, int], object] = {}


def read_file(image_path: str, offset: int, inode: int, limit: int) -> bytes:
    """The bytes of one file in the image (at most `limit`)."""
    import pytsk3

    key = (image_path, offset)
    if key not in _open:
        _open.clear()  # one image at a time per process: file handles stay bounded
        _open[key] = pytsk3.FS_Info(pytsk3.Img_Info(image_path), offset=offset)
    fs = _open[key]
    try:
        handle = fs.open_meta(inode=inode)
        size = min(handle.info.meta.size, limit)
        return handle.read_random(0, size) if size else b""
    except OSError as exc:
        raise DiskImageError(f"cannot read file in disk image: {exc}") from None

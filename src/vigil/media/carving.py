"""Hidden and altered content: files whose content contradicts their name, images appended after the
end of another image, images embedded in documents (a PDF's JPEG streams are plain JPEG files), and a
photo's EXIF thumbnail — which an editor often leaves as it was, so it can show the original picture.

Carving reads structure, not guesses: a JPEG's extent is found by walking its marker segments and
entropy-coded data to its EOI, a PNG's by walking its chunks to IEND. Only complete images are carved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol


class Item(Protocol):
    """What carving needs of a scan item (the scan layer's Item has it)."""

    path: str
    type: str | None
    pdq: str | None
    pdq_quality: int | None
    flags: list[str]

    def flag(self, name: str) -> None: ...


_JPEG_SOI = b"\xff\xd8\xff"
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # the first marker after entropy-coded data
MIN_CARVED_BYTES = 128
MAX_CARVED = 256  # per file: a document with thousands of icons is not worth thousands of items
THUMBNAIL_DISTANCE = 31
CARVE_TYPES = frozenset({"application/pdf", "application/octet-stream"})

_EXPECTED = {
    ("jpg", "jpeg", "jpe", "jfif"): {"image/jpeg"},
    ("png",): {"image/png"},
    ("gif",): {"image/gif"},
    ("webp",): {"image/webp"},
    ("bmp",): {"image/bmp"},
    ("tif", "tiff"): {"image/tiff"},
    ("heic", "heif"): {"image/heic"},
    ("mp4", "m4v", "mov", "3gp"): {"video/mp4", "video/quicktime", "audio/mp4"},
    ("avi",): {"video/x-msvideo"},
    ("webm", "mkv"): {"video/webm"},
    ("zip", "docx", "xlsx", "pptx", "odt", "jar", "apk"): {"application/zip"},
    ("pdf",): {"application/pdf"},
    ("7z",): {"application/x-7z-compressed"},
    ("gz", "tgz"): {"application/gzip"},
    ("txt", "csv", "log", "md", "json", "xml", "html", "htm"): {"text/plain"},
}
EXPECTED_TYPES = {ext: types for exts, types in _EXPECTED.items() for ext in exts}
_SPECIFIC = {t for types in _EXPECTED.values() for t in types} - {"text/plain"}


@dataclass
class Carved:
    name: str
    data: bytes
    flags: tuple[str, ...]


def jpeg_extent(data: bytes, start: int = 0) -> tuple[int, tuple[int, int] | None] | None:
    """(end offset, EXIF segment range or None) of the JPEG starting at `start`, or None when it is
    not a complete JPEG."""
    if data[start : start + 3] != _JPEG_SOI:
        return None
    n, i, exif = len(data), start + 2, None
    while i + 2 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xD9:
            return i + 2, exif
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        if i + 4 > n:
            return None
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return None
        end = i + 2 + length
        if marker == 0xE1 and exif is None and data[i + 4 : i + 10] == b"Exif\x00\x00":
            exif = (i + 4, min(end, n))
        if marker == 0xDA:
            found = _MARKER.search(data, end)
            if found is None:
                return None
            i = found.start()
        else:
            i = end
    return None


def png_extent(data: bytes, start: int = 0) -> int | None:
    if data[start : start + 8] != _PNG_SIG:
        return None
    i, n = start + 8, len(data)
    while i + 12 <= n:
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        i += 12 + length
        if kind == b"IEND":
            return i if i <= n else None
    return None


def _image_end(data: bytes, start: int) -> int | None:
    if data.startswith(_JPEG_SOI, start):
        found = jpeg_extent(data, start)
        return found[0] if found else None
    return png_extent(data, start)


def _carve_from(data: bytes, start: int, flags: tuple[str, ...]) -> list[Carved]:
    """Complete JPEG and PNG images at or after `start`, each named by its offset."""
    out: list[Carved] = []
    at = start
    while len(out) < MAX_CARVED:
        jpeg, png = data.find(_JPEG_SOI, at), data.find(_PNG_SIG, at)
        candidates = [p for p in (jpeg, png) if p >= 0]
        if not candidates:
            break
        pos = min(candidates)
        end = _image_end(data, pos)
        if end is None or end - pos < MIN_CARVED_BYTES:
            at = pos + 1
            continue
        ext = "jpg" if pos == jpeg else "png"
        out.append(Carved(f"@{pos}.{ext}", data[pos:end], flags))
        at = end
    return out


def carve(data: bytes, item: Item) -> list[Carved]:
    """Images hidden in or attached to `data`; sets the item's `appended-data` flag."""
    if item.type == "image/jpeg":
        found = jpeg_extent(data)
        if found is None:
            return []
        end, exif = found
        out = []
        if exif is not None:
            at = data.find(_JPEG_SOI, exif[0], exif[1])
            thumb_end = _image_end(data[: exif[1]], at) if at >= 0 else None
            if thumb_end is not None:
                out.append(Carved("exif-thumbnail.jpg", data[at:thumb_end], ("carved", "exif-thumbnail")))
        return out + _trailing(data, end, item)
    if item.type == "image/png":
        end = png_extent(data)
        return _trailing(data, end, item) if end is not None else []
    if item.type in CARVE_TYPES:
        return embedded(data)
    return []


def embedded(data: bytes) -> list[Carved]:
    """Complete pictures inside a file of a CARVE_TYPES type (a document, a binary blob)."""
    return _carve_from(data, 1, ("carved",))


def _trailing(data: bytes, end: int, item: Item) -> list[Carved]:
    if not data[end:].strip(b"\x00\r\n \t"):
        return []
    item.flag("appended-data")
    return _carve_from(data, end, ("carved",))


def check_extension(item: Item) -> None:
    """Flag a file whose content contradicts its name: a photo named `.txt`, a zip named `.jpg`."""
    if extension_mismatch(item.path, item.type):
        item.flag("extension-mismatch")


def extension_mismatch(path: str, mime: str | None) -> bool:
    name = path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    if "." not in name:
        return False
    expected = EXPECTED_TYPES.get(name.rsplit(".", 1)[1].lower())
    if expected is None or mime in expected:
        return False
    return mime in _SPECIFIC or bool(expected & _SPECIFIC)


def compare_thumbnail(items: list) -> None:
    """Flag a photo whose EXIF thumbnail shows something else (PDQ distance over 31)."""
    photo = items[0]
    if not photo.pdq or photo.pdq_quality is None or photo.pdq_quality < 50:
        return
    for child in items[1:]:
        if "exif-thumbnail" in child.flags and child.pdq and (child.pdq_quality or 0) >= 50:
            distance = (int(photo.pdq, 16) ^ int(child.pdq, 16)).bit_count()
            if distance > THUMBNAIL_DISTANCE:
                photo.flag("thumbnail-differs")

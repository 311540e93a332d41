"""File type from content, never from the name: a JPEG renamed `.txt` is still an image."""

from __future__ import annotations

from vigil.media.diskimage import DISK_IMAGE, looks_like_disk_image

HEAD_BYTES = 2048  # enough for every signature below, up to an ext superblock's magic at 1080

IMAGE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "image/heic",
        "image/avif",
    }
)
ARCHIVE_TYPES = frozenset(
    {
        "application/zip",
        "application/x-tar",
        "application/gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-7z-compressed",
    }
)

_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # empty archive
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"%PDF-", "application/pdf"),
    (b"\x1aE\xdf\xa3", "video/webm"),
    (b"OggS", "application/ogg"),
)
_ANY_PREFIX = tuple(prefix for prefix, _ in _PREFIXES)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# audio in an MP4 box (iTunes .m4a/.m4b, protected .m4p, Flash audio): not a video, nothing to decode
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_VIDEO_BRANDS = {b"qt  ": "video/quicktime", **dict.fromkeys(_AUDIO_BRANDS, "audio/mp4")}
_BMP_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}

# The short name of each type that is decoded or expanded, for `not-a-valid-<kind>` flags: a file that
# starts like one of these but does not decode or expand as one (see vigil.scan.hashing.FLAGS).
KINDS = {
    "application/gzip": "gzip",
    "application/x-bzip2": "bzip2",
    "application/x-xz": "xz",
    "application/zip": "zip",
    "application/x-tar": "tar",
    "application/x-7z-compressed": "7z",
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "image/heic": "heic",
    "image/avif": "avif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/x-msvideo": "avi",
    DISK_IMAGE: "disk-image",
}


def _is_tar_header(head: bytes) -> bool:
    """A tar header (ustar magic and a valid header checksum): checked before the other magics, since
    a member named `\\xff\\xd8\\xff…` or `PK\\x03\\x04…` would otherwise pass the tar off as a JPEG or a
    zip and its members would never be read."""
    if len(head) < 512 or head[257:262] != b"ustar":
        return False
    field = head[148:156].split(b"\0", 1)[0].strip()
    try:
        stored = int(field or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(head[:148]) + 8 * 32 + sum(head[156:512])


def sniff(head: bytes) -> str:
    """MIME type of a file from its first bytes (at least HEAD_BYTES when the file has them)."""
    if _is_tar_header(head):  # first: a tar's first bytes are its first member's name, any bytes
        return "application/x-tar"
    if head.startswith(_ANY_PREFIX):  # one C call for the common case: none of them
        for prefix, mime in _PREFIXES:
            if head.startswith(prefix):
                return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "image/bmp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "image/heic"
        if brand in (b"avif", b"avis"):
            return "image/avif"
        return _VIDEO_BRANDS.get(brand, "video/mp4")
    if len(head) > 262 and head[257:262] == b"ustar":
        return "application/x-tar"
    if looks_like_disk_image(head):
        return DISK_IMAGE
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError as exc:  # a multi-byte character cut at the end is still text
            if exc.start >= len(head) - 3:
                return "text/plain"
    return "application/octet-stream"


def kind(mime: str) -> str:
    """The short name of a type (`gzip`, `jpeg`, `mp4`): KINDS, else the subtype without `x-`."""
    return KINDS.get(mime) or mime.rsplit("/", 1)[-1].removeprefix("x-")


def is_image(mime: str) -> bool:
    return mime in IMAGE_TYPES


def is_video(mime: str) -> bool:
    return mime.startswith("video/")


def is_archive(mime: str) -> bool:
    return mime in ARCHIVE_TYPES

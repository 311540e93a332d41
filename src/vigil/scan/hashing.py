"""Hashing one piece of evidence: cryptographic digests, type from content, PDQ for images, vPDQ for
videos, and everything inside it — archive members, compressed files, carved images — to any depth.

Files up to IN_MEMORY_BYTES are read once and both digested and decoded from the same bytes; larger
ones are digested in a streaming pass (bounded memory) and, when they are images or videos, decoded
from the path. Children get `parent!child` paths. Expansion of one evidence file is bounded in depth
and in bytes (archive bombs): where a limit stops it, the item says so and the scan goes on.

Content that only looks like a format is not an error. `error` says the item could not be read or
examined: an input/output error (an OSError with an errno: the disk, not the data), an expansion or
pixel limit, encryption, a method the readers lack, an internal error — and an archive member whose
bytes could not be extracted (it has no digests). Bytes that were read and digested but do not
decode or expand as the kind their first bytes claim — a random file that starts with `\x1f\x8b`, a
truncated JPEG, a zip with no central directory, a damaged member's data in a real zip — give the
item whose bytes they are the flag `not-a-valid-<kind>` (NOT_VALID + sniff.kind of its type: gzip,
zip, jpeg, mp4...) and no error; its digests stand, and whatever could be read from it (members
before the damage) is listed. So the flag goes on the container when a member's data is damaged,
and the member, which has no bytes, keeps its error; a compressed tar is flagged by its outer kind
(gzip, bzip2, xz) whichever layer is damaged. `not_valid(flags)` tells these items apart.
"""

from __future__ import annotations

import errno
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from PIL.Image import DecompressionBombError

from vigil.media import carving, containers
from vigil.media.images import DecodeError, decode_luma
from vigil.media.sniff import HEAD_BYTES, is_archive, is_image, is_video, kind, sniff
from vigil.media.video import VideoError, vpdq_hash
from vigil.scan import locations
from vigil.signals.crypto import CHUNK, MultiDigest, digest_bytes
from vigil.signals.pdq import pdq_from_luma
from vigil.signals.vpdq import VpdqFrame, pack, unpack

Known = Callable[[dict[str, bytes]], str | None]  # digests -> name of a known-good set listing them
IN_MEMORY_BYTES = 64 << 20
HASH_KEYS = ("path", "size", "type", "md5", "sha1", "sha256", "pdq", "pdq_quality")
_ROW_FIELDS = (*HASH_KEYS, "error", "known", "duplicate_group", "duration")
# an item as the case store keeps it (vigil.store.caseitems), in this order
ROW_KEYS = (*_ROW_FIELDS, "matches", "flags", "vpdq_frames", "dihedral", "vpdq", "other")
# most items of a disk are plain files: digests and a type, nothing else found. Their rows are
# these first values only (a third of the pickling and of the database's binding work)
PLAIN_KEYS = ROW_KEYS[:6]
_PLAIN_REST = tuple("[]" if key == "matches" else None for key in ROW_KEYS[6:])


def full_row(row: tuple) -> tuple:
    """A row of every ROW_KEYS value, from a full or a plain one (`Item.row`)."""
    return row if len(row) == len(ROW_KEYS) else (*row, *_PLAIN_REST)


@dataclass(frozen=True)
class Limits:
    """Bounds on expanding one evidence file (containers within containers)."""

    max_depth: int = 8
    max_expanded_bytes: int = 4 << 30


@dataclass
class Item:
    """One file's findings. `dihedral` (8 PDQ variants) and `vpdq` (frames) are used for matching and
    kept in the case store, not shown in the case JSON."""

    path: str
    size: int | None = None
    type: str | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    error: str | None = None
    dihedral: tuple[str, ...] = ()
    matches: list[dict] = field(default_factory=list)
    duplicate_group: int | None = None
    known: str | None = None  # the known-good set that lists it: counted, not decoded, not matched
    flags: list[str] = field(default_factory=list)  # see FLAGS
    vpdq: tuple[VpdqFrame, ...] = ()
    duration: float | None = None  # videos, seconds
    # hex of registered signals computed from bytes that have no field above (a new module in
    # vigil.signals): shown after the documented keys, matched like md5
    other: dict[str, str] = field(default_factory=dict)

    def hash(self, signal: str) -> str | None:
        """The hex of a signal computed from the bytes (md5, sha1, sha256 or any other registered)."""
        return getattr(self, signal) if signal in _DIGEST_FIELDS else self.other.get(signal)

    def hashes(self) -> dict:
        """The item as `vigil hash --json` shows it."""
        return {**{key: getattr(self, key) for key in HASH_KEYS}, **self.other}

    def report(self) -> dict:
        """The item as the case JSON shows it (key order as documented)."""
        out = self.hashes()
        return {
            "path": out.pop("path"),
            "location": locations.location(self.path),
            **out,
            "matches": self.matches,
            "duplicate_group": self.duplicate_group,
            "error": locations.encodable(self.error) if self.error else None,
            "known": self.known,
            "disputed": self.disputed,
            "flags": self.flags,
            "vpdq_frames": len(self.vpdq) if self.vpdq else None,
            "duration": self.duration,
        }

    def row(self) -> tuple:
        """Everything the scan found, as the case store's item row: values in ROW_KEYS order (a
        tuple: what workers send back, ten million times), lists as JSON, no flags as NULL, PDQ
        variants and video frames as bytes; only the PLAIN_KEYS values for a plain file."""
        if (
            not (self.pdq or self.error or self.known or self.duplicate_group is not None)
            and self.duration is None
            and not (self.matches or self.flags or self.vpdq or self.dihedral or self.other)
        ):
            return (self.path, self.size, self.type, self.md5, self.sha1, self.sha256)
        return (
            *(getattr(self, key) for key in HASH_KEYS),
            locations.encodable(self.error) if self.error else None,
            self.known,
            self.duplicate_group,
            self.duration,
            json.dumps(self.matches, ensure_ascii=False) if self.matches else "[]",
            json.dumps(self.flags, ensure_ascii=False) if self.flags else None,
            len(self.vpdq) if self.vpdq else None,
            b"".join(bytes.fromhex(v) for v in self.dihedral) or None,
            pack(self.vpdq) if self.vpdq else None,
            json.dumps(self.other) if self.other else None,
        )

    @classmethod
    def from_values(cls, row: tuple) -> Item:
        """The item of a row as `row()` gives it (full or plain)."""
        return cls.from_row(dict(zip(ROW_KEYS, full_row(row), strict=True)))

    @classmethod
    def from_row(cls, row) -> Item:
        """The item of a case store row (a mapping with ROW_KEYS; `matches` may be absent)."""
        dihedral, video = row["dihedral"], row["vpdq"]
        return cls(
            **{key: row[key] for key in _ROW_FIELDS},
            matches=json.loads(row.get("matches") or "[]"),
            flags=json.loads(row["flags"] or "[]"),
            dihedral=tuple(dihedral[i : i + 32].hex() for i in range(0, len(dihedral), 32))
            if dihedral
            else (),
            vpdq=tuple(unpack(video)) if video else (),
            other=json.loads(row["other"]) if row["other"] else {},
        )

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)

    @property
    def disputed(self) -> bool:
        """Hash sets that list this file disagree on its category (the matches say who said what)."""
        return len({m["category"] for m in self.matches if m["category"] is not None}) > 1


NOT_VALID = "not-a-valid-"  # + a kind (sniff.KINDS): starts like that kind but is not a valid one
FLAGS = {
    "encrypted": "an encrypted archive or member: listed, not decrypted",
    "expansion-limit": "a container not fully expanded: nested too deep or too large (archive bomb guard)",
    "extension-mismatch": "the file's content is not what its name says",
    "appended-data": "bytes after the end of the image (another file may be hidden there)",
    "carved": "found inside another file (appended, embedded in a document, EXIF thumbnail)",
    "exif-thumbnail": "the EXIF thumbnail of a photo",
    "thumbnail-differs": "the photo's EXIF thumbnail shows a different picture (edited or swapped)",
    "altered-copy": "a near match to known material: an altered copy (distance in the match)",
    "deleted": "a deleted file the file system still lists",
    "empty": "an empty file (0 bytes): nothing to compare with its name",
    "suspicious-name": "an archive member named to be extracted outside its folder (absolute, `..`) "
    "or as no file (empty, ending in `/`): shown as stored, never resolved",
    # content that starts like a kind (sniff.KINDS) but is not a valid one: no error (module docstring)
    **{
        f"{NOT_VALID}{k}": f"starts like a {k} file but does not decompress (corrupt, truncated, or not "
        "compressed at all): digested, not expanded"
        for k in ("gzip", "bzip2", "xz")
    },
    **{
        f"{NOT_VALID}{k}": f"starts like a {k} archive but cannot be listed, or a member's data in it is "
        "damaged (corrupt, truncated, or not an archive at all): digested; what could be read is listed"
        for k in ("zip", "tar", "7z")
    },
    **{
        f"{NOT_VALID}{k}": f"starts like a {k} image but does not decode (corrupt, truncated, or not an "
        "image at all): digested, no PDQ"
        for k in ("jpeg", "png", "gif", "webp", "bmp", "tiff", "heic", "avif")
    },
    **{
        f"{NOT_VALID}{k}": f"starts like a {k} video but holds no decodable video (corrupt, truncated, "
        "audio only, or not a video at all): digested, no vPDQ"
        for k in ("mp4", "mov", "webm", "avi")
    },
    f"{NOT_VALID}disk-image": "starts like a disk image (partition table, file system) but no file "
    "system in it can be read: digested as a plain file",
}

NOT_VALID_FLAGS = tuple(name for name in FLAGS if name.startswith(NOT_VALID))  # for counting in a query


def not_valid(flags: list[str] | tuple[str, ...]) -> bool:
    """The item's bytes were read and digested but are not a valid file of the kind their first
    bytes claim (a `not-a-valid-<kind>` flag): counted apart from the items with an error."""
    return any(f.startswith(NOT_VALID) for f in flags)


def _flag_not_valid(item: Item) -> None:
    item.flag(NOT_VALID + kind(item.type or ""))


def _decode_failure(item: Item, exc: DecodeError | VideoError) -> None:
    """A decoder gave up. A real I/O error (reading a large file from its path) or Pillow's pixel
    limit is the item's error; anything else says the bytes are not a valid file of their kind.
    (The decoders raise `from None`: what they caught is still the exception's __context__.)"""
    if containers.io_error(exc) or isinstance(exc.__context__, DecompressionBombError):
        item.error = str(exc)
    else:
        _flag_not_valid(item)


EMPTY_TYPE = "inode/x-empty"  # as file(1) --mime-type names an empty file


_DIGEST_FIELDS = frozenset(("md5", "sha1", "sha256"))  # digests with an Item field of their own
PLAIN_TYPES = frozenset({"text/plain", "application/octet-stream"})  # may give a plain row at once


def _set_digests(item: Item, digests: dict[str, bytes], known: Known | None) -> None:
    for name, value in digests.items():
        if name in _DIGEST_FIELDS:
            setattr(item, name, value.hex())
        else:
            item.other[name] = value.hex()
    if known is not None:
        item.known = known(digests)


def _add_pdq(item: Item, source: bytes | str, dihedral: bool) -> None:
    try:
        luma = decode_luma(source, item.type or "")
    except DecodeError as exc:
        _decode_failure(item, exc)
        return
    result = pdq_from_luma(luma.pixels, luma.full_height, luma.full_width, luma.k, dihedral=dihedral)
    item.pdq, item.pdq_quality = result.hex, result.quality
    item.dihedral = tuple(v.hex() for v in result.dihedral)


def _add_vpdq(item: Item, source: bytes | str) -> None:
    try:
        video = vpdq_hash(source)
    except VideoError as exc:
        _decode_failure(item, exc)
        return
    item.vpdq, item.duration = video.frames, round(video.duration, 3)


SMALL_READ = 1 << 16
# evidence is read without updating its access times where the system allows it (the owner, or
# root): what an examiner's tool should not change, and no inode write-back for every file read
_NOATIME = getattr(os, "O_NOATIME", 0)
_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC


def _open_evidence(fs_path: str) -> int:
    try:
        return os.open(fs_path, _READ_FLAGS | _NOATIME)
    except PermissionError as exc:  # EPERM: O_NOATIME on a file of another owner
        if exc.errno != errno.EPERM or not _NOATIME:
            raise
        return os.open(fs_path, _READ_FLAGS)


def _small_file(fs_path: str) -> bytes | None:
    """The whole content of a file under SMALL_READ bytes, else None (read it as a large one)."""
    fd = _open_evidence(fs_path)
    try:
        data = os.read(fd, SMALL_READ)
        return data if len(data) < SMALL_READ else None
    finally:
        os.close(fd)


class Hasher:
    """Hashes evidence files into items. One per worker; `file` starts a fresh expansion budget."""

    def __init__(
        self,
        dihedral: bool = False,
        known: Known | None = None,
        expand: bool = True,
        limits: Limits = Limits(),  # noqa: B008 - frozen
    ):
        self.dihedral, self.known, self.expand, self.limits = dihedral, known, expand, limits
        self._budget = limits.max_expanded_bytes

    def file(self, fs_path: str, logical: str) -> list[Item]:
        """Items for one file: itself and everything inside it. A file on a known-good set is only
        digested: no decoding, no expansion."""
        found = self.file_or_row(fs_path, logical)
        return [Item.from_values(found)] if isinstance(found, tuple) else found

    def file_or_row(self, fs_path: str, logical: str) -> list[Item] | tuple:
        """`file`, but for a plain file (PLAIN_TYPES, nothing inside, name and content agree, not
        known-good: most files of a disk) the row `file(...)[0].row()` would give, made without
        an Item (half the cost of a small file's hashing is the Item's bookkeeping)."""
        self._budget = self.limits.max_expanded_bytes
        try:
            data = _small_file(fs_path)  # most files: one open, one read, no file object
            if data is not None and (row := self._plain_row(data, logical)) is not None:
                return row
            if data is None:
                with open(_open_evidence(fs_path), "rb", buffering=0) as fh:
                    if os.fstat(fh.fileno()).st_size > IN_MEMORY_BYTES:
                        item = self.stream(fh, logical)
                    else:
                        data = fh.readall()
        except OSError as exc:
            return [Item(path=logical, error=f"cannot read file: {exc.strerror or exc}")]
        if data is not None:
            return self.data(data, logical)
        try:
            return [item, *self._large_children(item, fs_path)]
        except OSError as exc:  # read again to decode or expand, and it failed this time
            item.error = f"cannot read file: {exc.strerror or exc}"
            return [item]

    def _plain_row(self, data: bytes, path: str) -> tuple | None:
        mime = sniff(data[:HEAD_BYTES]) if data else None
        if mime not in PLAIN_TYPES or carving.extension_mismatch(path, mime):
            return None
        if mime in carving.CARVE_TYPES and carving.embedded(data):
            return None
        digests = digest_bytes(data)
        if len(digests) != len(_DIGEST_FIELDS) or (self.known is not None and self.known(digests)):
            return None  # another registered signal (an `other` value), or on a known-good set
        return (path, len(data), mime, digests["md5"].hex(), digests["sha1"].hex(), digests["sha256"].hex())

    def stream(self, stream: BinaryIO, path: str) -> Item:
        """Digests and type of a stream too large to hold; no decoding."""
        first = stream.read(HEAD_BYTES)
        digest = MultiDigest()
        digest.update(first)
        while block := stream.read(CHUNK):
            digest.update(block)
        item = Item(path=path, size=digest.size, type=sniff(first))
        _set_digests(item, digest.digests(), self.known)
        return item

    def data(self, data: bytes, path: str, depth: int = 0) -> list[Item]:
        """The item for `data` and, unless it is known-good, the items inside it."""
        item = Item(path=path, size=len(data), type=sniff(data[:HEAD_BYTES]))
        _set_digests(item, digest_bytes(data), self.known)
        if item.known:
            return [item]
        self._decode(item, data)
        if not self.expand:
            return [item]
        items = [item]
        if is_archive(item.type):
            items.extend(self._members(io.BytesIO(data), item, depth))
        for child in carving.carve(data, item) if depth < self.limits.max_depth else ():
            found = self.data(child.data, locations.join(path, child.name), depth + 1)
            for name in child.flags:
                found[0].flag(name)
            items.extend(found)
        carving.compare_thumbnail(items)
        return items

    def _decode(self, item: Item, source: bytes | str) -> None:
        """What the content says beyond its digests: name check, PDQ of an image, vPDQ of a video
        (`source` is the bytes, or the path of a file too large to hold)."""
        if item.size == 0:  # no content: not an extension mismatch, nothing to decode
            item.type = EMPTY_TYPE
            item.flag("empty")
            return
        carving.check_extension(item)
        if is_image(item.type):
            _add_pdq(item, source, self.dihedral)
        elif is_video(item.type):
            _add_vpdq(item, source)

    def _large_children(self, item: Item, fs_path: str) -> list[Item]:
        if item.known:
            return []
        self._decode(item, fs_path)
        if self.expand and is_archive(item.type):
            with open(fs_path, "rb") as fh:
                return self._members(fh, item, 0)
        return []

    def _members(self, source: BinaryIO, archive: Item, depth: int) -> list[Item]:
        if depth >= self.limits.max_depth:
            archive.flag("expansion-limit")
            archive.error = f"not expanded: containers nested deeper than {self.limits.max_depth}"
            return []
        out: list[Item] = []
        try:
            name = locations.basename(archive.path)
            for member in containers.members(source, archive.type, name, self._budget):
                logical = locations.join(archive.path, member.name, member.ordinal)
                if member.encrypted:
                    archive.flag("encrypted")
                first = len(out)
                if member.error:
                    out.append(Item(path=logical, size=member.size, error=member.error))
                    if member.encrypted:
                        out[-1].flag("encrypted")
                    if member.damaged:  # the member has no bytes; the archive's are not valid
                        _flag_not_valid(archive)
                elif member.data is not None:
                    if len(member.data) > self._budget:
                        archive.flag("expansion-limit")
                        archive.error = (
                            f"expansion stopped: more than {self.limits.max_expanded_bytes:,} bytes "
                            "inside one evidence file (archive bomb guard)"
                        )
                        break
                    self._budget -= len(member.data)
                    out.extend(self.data(member.data, logical, depth + 1))
                else:
                    try:
                        out.append(self.stream(member.stream, logical))
                    except containers.ArchiveError as exc:  # damaged data in a large member
                        size = member.size if member.size >= 0 else None  # -1: not known
                        out.append(Item(path=logical, size=size, error=str(exc)))
                        _flag_not_valid(archive)
                if member.suspicious:
                    out[first].flag("suspicious-name")
        except containers.EncryptedArchive as exc:
            archive.flag("encrypted")
            archive.error = str(exc)
        except containers.UnsupportedArchive as exc:
            archive.error = str(exc)
        except containers.ArchiveError:  # digested, but not a valid archive of its kind
            _flag_not_valid(archive)
        except OSError as exc:  # the disk, not the data (containers.io_error): digests kept
            archive.error = f"cannot read file: {exc.strerror or exc}"
        return out


def hash_bytes(data: bytes, path: str, dihedral: bool = False, known: Known | None = None) -> Item:
    """The item for one file's bytes (nothing inside it)."""
    return Hasher(dihedral, known, expand=False).data(data, path)[0]


def hash_file(
    fs_path: str, logical: str, dihedral: bool = False, expand: bool = True, known: Known | None = None
) -> list[Item]:
    return Hasher(dihedral, known, expand).file(fs_path, logical)

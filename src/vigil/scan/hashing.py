"""Hashing one piece of evidence: cryptographic digests, type from content, PDQ for images.

Files up to IN_MEMORY_BYTES are read once and both digested and decoded from the same bytes; larger
ones are digested in a streaming pass (bounded memory) and, when they are images, decoded from the
path. Archives expand into one item per member, with `archive!member` paths.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from vigil.media import containers
from vigil.media.images import DecodeError, decode_luma
from vigil.media.sniff import HEAD_BYTES, is_archive, is_image, sniff
from vigil.signals.crypto import CHUNK, MultiDigest, digest_bytes
from vigil.signals.pdq import pdq_from_luma

Known = Callable[[dict[str, bytes]], str | None]  # digests -> name of a known-good set listing them
IN_MEMORY_BYTES = 64 << 20
HASH_KEYS = ("path", "size", "type", "md5", "sha1", "sha256", "pdq", "pdq_quality")


@dataclass
class Item:
    """One file's findings. `dihedral` (8 PDQ variants) is used for matching and not reported."""

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

    def hashes(self) -> dict:
        """The item as `vigil hash --json` shows it."""
        return {key: getattr(self, key) for key in HASH_KEYS}

    def report(self) -> dict:
        """The item as the case JSON shows it (key order as documented)."""
        return {
            **self.hashes(),
            "matches": self.matches,
            "duplicate_group": self.duplicate_group,
            "error": self.error,
            "known": self.known,
            "disputed": self.disputed,
        }

    @property
    def disputed(self) -> bool:
        """Hash sets that list this file disagree on its category (the matches say who said what)."""
        return len({m["category"] for m in self.matches if m["category"] is not None}) > 1


def _set_digests(item: Item, digests: dict[str, bytes], known: Known | None) -> None:
    item.md5, item.sha1, item.sha256 = (digests[k].hex() for k in ("md5", "sha1", "sha256"))
    if known is not None:
        item.known = known(digests)


def _add_pdq(item: Item, source: bytes | str, dihedral: bool) -> None:
    try:
        luma = decode_luma(source, item.type or "")
    except DecodeError as exc:
        item.error = str(exc)
        return
    result = pdq_from_luma(luma.pixels, luma.full_height, luma.full_width, luma.k, dihedral=dihedral)
    item.pdq, item.pdq_quality = result.hex, result.quality
    item.dihedral = tuple(v.hex() for v in result.dihedral)


def hash_bytes(data: bytes, path: str, dihedral: bool = False, known: Known | None = None) -> Item:
    item = Item(path=path, size=len(data), type=sniff(data[:HEAD_BYTES]))
    _set_digests(item, digest_bytes(data), known)
    if is_image(item.type) and not item.known:
        _add_pdq(item, data, dihedral)
    return item


def hash_stream(stream: BinaryIO, path: str, known: Known | None = None) -> Item:
    """Digests and type of a stream too large to hold; no decoding."""
    first = stream.read(HEAD_BYTES)
    digest = MultiDigest()
    digest.update(first)
    while block := stream.read(CHUNK):
        digest.update(block)
    item = Item(path=path, size=digest.size, type=sniff(first))
    _set_digests(item, digest.digests(), known)
    return item


def hash_file(
    fs_path: str, logical: str, dihedral: bool = False, expand: bool = True, known: Known | None = None
) -> list[Item]:
    """Items for one file: itself and, for an archive, each of its members. A file on a known-good
    set is only digested: no decoding, no archive expansion."""
    try:
        size = os.path.getsize(fs_path)
        if size <= IN_MEMORY_BYTES:
            with open(fs_path, "rb") as fh:
                data = fh.read()
            item = hash_bytes(data, logical, dihedral, known)
        else:
            with open(fs_path, "rb") as fh:
                item = hash_stream(fh, logical, known)
            if is_image(item.type) and not item.known:
                _add_pdq(item, fs_path, dihedral)
    except OSError as exc:
        return [Item(path=logical, error=f"cannot read file: {exc.strerror or exc}")]
    items = [item]
    if expand and is_archive(item.type) and not item.known:
        items.extend(_archive_items(fs_path, item, dihedral, known))
    return items


def _archive_items(fs_path: str, archive: Item, dihedral: bool, known: Known | None) -> list[Item]:
    out: list[Item] = []
    with open(fs_path, "rb") as fh:
        if (
            archive.type != "application/zip"
            and archive.type != "application/x-tar"
            and not (containers.is_tar(fh))
        ):
            return out  # a lone compressed file, not an archive of files
        try:
            for member in containers.members(fh, archive.type):
                logical = f"{archive.path}{containers.SEPARATOR}{member.name}"
                if member.error:
                    out.append(Item(path=logical, size=member.size, error=member.error))
                elif member.data is not None:
                    out.append(hash_bytes(member.data, logical, dihedral, known))
                else:
                    out.append(hash_stream(member.stream, logical, known))
        except containers.ArchiveError as exc:
            archive.error = str(exc)
    return out

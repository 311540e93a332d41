"""Files inside archives (zip, tar, 7z) and compressed files (gz, bz2, xz), as `archive!member` paths.

Members are read into memory one at a time (bounded by MAX_MEMBER_BYTES; larger zip/tar/gz members
are hashed from the stream and not decoded). Nothing is extracted to disk: evidence stays where it is.
A lone compressed file (`photo.jpg.gz`) is a container of one member named without the suffix.
Encrypted members are reported, never guessed at.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_MEMBER_BYTES = 256 << 20
SEPARATOR = "!"
ENCRYPTED = "encrypted archive member (not decrypted)"
_COMPRESSED = {
    "application/gzip": (lambda f: gzip.GzipFile(fileobj=f), (".gz", ".tgz", ".gzip")),
    "application/x-bzip2": (bz2.BZ2File, (".bz2", ".tbz2", ".tbz")),
    "application/x-xz": (lzma.LZMAFile, (".xz", ".txz")),
}


@dataclass
class Member:
    """One file inside an archive: its name, size, and either its bytes or an error."""

    name: str
    size: int
    data: bytes | None = None
    stream: BinaryIO | None = None  # for members too large to hold in memory
    error: str | None = None
    encrypted: bool = False


class ArchiveError(Exception):
    """The archive itself cannot be listed (corrupt, truncated, unsupported)."""


class EncryptedArchive(ArchiveError):
    """The archive's list of files is itself encrypted (7z with an encrypted header)."""


def _clean(name: str) -> str:
    return "/".join(part for part in name.replace("\\", "/").split("/") if part not in ("", ".", ".."))


def _zip_members(source: BinaryIO) -> Iterator[Member]:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveError(f"cannot read zip archive: {exc}") from None
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            name = _clean(info.filename)
            if info.flag_bits & 0x1:
                yield Member(name, info.file_size, error=ENCRYPTED, encrypted=True)
                continue
            try:
                with archive.open(info) as fh:
                    if info.file_size > MAX_MEMBER_BYTES:
                        yield Member(name, info.file_size, stream=fh)
                    else:
                        yield Member(name, info.file_size, data=fh.read(MAX_MEMBER_BYTES + 1))
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                yield Member(name, info.file_size, error=f"cannot read archive member: {exc}")


def _tar_members(source: BinaryIO) -> Iterator[Member]:
    try:
        archive = tarfile.open(fileobj=source, mode="r:*")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"cannot read tar archive: {exc}") from None
    with archive:
        try:
            for info in archive:  # streaming order: a .tar.gz cannot seek backwards cheaply
                if info.isdir():
                    continue
                name = _clean(info.name)
                if not (info.isfile() or info.islnk()):  # listed, never followed or opened
                    yield Member(name, 0, error=_not_a_file(info))
                    continue
                try:
                    fh = archive.extractfile(info)  # a hard link reads the file it links to
                except (tarfile.TarError, KeyError) as exc:
                    yield Member(name, info.size, error=f"cannot read archive member: {exc}")
                    continue
                if fh is None:
                    yield Member(name, info.size, error="cannot read archive member")
                    continue
                try:
                    if info.size > MAX_MEMBER_BYTES:
                        yield Member(name, info.size, stream=fh)
                    else:
                        yield Member(name, info.size, data=fh.read())
                except (tarfile.TarError, OSError, EOFError) as exc:
                    yield Member(name, info.size, error=f"cannot read archive member: {exc}")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"archive is truncated or corrupt: {exc}") from None


def _not_a_file(info: tarfile.TarInfo) -> str:
    if info.issym():
        target = info.linkname.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return f"symbolic link inside the archive (to {target}): not followed"
    kinds = ((info.isfifo, "named pipe"), (info.ischr, "character device"), (info.isblk, "block device"))
    kind = next((name for test, name in kinds if test()), "special entry")
    return f"{kind} inside the archive: not read"


def _7z_members(source: BinaryIO, budget: int) -> Iterator[Member]:
    """7z is usually solid (one compressed stream for all files), so members are decompressed in one
    pass into memory, at most `budget` bytes in all; what does not fit is reported, not read."""
    import py7zr
    from py7zr.io import BytesIOFactory

    try:
        archive = py7zr.SevenZipFile(source, "r")
    except py7zr.exceptions.PasswordRequired:
        raise EncryptedArchive("encrypted 7z archive: its file list is encrypted (not decrypted)") from None
    except (py7zr.exceptions.Bad7zFile, py7zr.exceptions.ArchiveError, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"cannot read 7z archive: {exc}") from None
    with archive:
        infos = sorted((i for i in archive.list() if not i.is_directory), key=lambda i: i.filename)
        if archive.needs_password():
            for info in infos:
                yield Member(_clean(info.filename), info.uncompressed, error=ENCRYPTED, encrypted=True)
            return
        wanted, total = [], 0
        for info in infos:
            total += info.uncompressed
            if info.uncompressed <= MAX_MEMBER_BYTES and total <= budget:
                wanted.append(info.filename)
        factory = BytesIOFactory(MAX_MEMBER_BYTES + 1)
        try:
            archive.extract(targets=wanted, factory=factory)
            failure = None
        except Exception as exc:  # noqa: BLE001 - py7zr raises many kinds on corrupt data
            failure = f"cannot read archive member: {type(exc).__name__}: {exc}"
        for info in infos:
            name, size = _clean(info.filename), info.uncompressed
            product = factory.products.get(info.filename)
            if info.filename not in wanted:
                yield Member(name, size, error="not expanded: over the archive expansion limit")
            elif failure or product is None:
                yield Member(name, size, error=failure or "cannot read archive member")
            else:
                product.seek(0)
                yield Member(name, size, data=product.read())


def _single_member(source: BinaryIO, mime: str, archive_name: str) -> Iterator[Member]:
    opener, suffixes = _COMPRESSED[mime]
    base = archive_name.rsplit("/", 1)[-1]
    lowered = base.lower()
    name = next((base[: -len(s)] for s in suffixes if lowered.endswith(s) and len(base) > len(s)), None)
    name = name or base + ".uncompressed"
    try:
        stream = opener(source)
        data = stream.read(MAX_MEMBER_BYTES + 1)
    except (OSError, EOFError, ValueError, lzma.LZMAError) as exc:
        raise ArchiveError(f"cannot decompress: {exc}") from None
    if len(data) > MAX_MEMBER_BYTES:
        source.seek(0)
        yield Member(name, -1, stream=opener(source))
    else:
        yield Member(name, len(data), data=data)


def is_tar(source: BinaryIO) -> bool:
    """A (possibly gzip/bzip2/xz-compressed) stream that holds a tar archive."""
    try:
        with tarfile.open(fileobj=source, mode="r:*") as archive:
            return archive.next() is not None
    except (tarfile.TarError, OSError, EOFError):
        return False
    finally:
        source.seek(0)


def members(source: BinaryIO, mime: str, archive_name: str = "", budget: int = 1 << 40) -> Iterator[Member]:
    """The files in a container of type `mime`: sorted for zip and 7z, in stream order for tar.
    `archive_name` names a lone compressed file's member; `budget` caps what 7z holds in memory."""
    if mime == "application/zip":
        yield from _zip_members(source)
    elif mime == "application/x-7z-compressed":
        yield from _7z_members(source, budget)
    elif mime == "application/x-tar" or is_tar(source):
        yield from _tar_members(source)
    else:
        yield from _single_member(source, mime, archive_name)

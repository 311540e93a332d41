"""Files inside zip and tar(.gz/.bz2/.xz) archives, as `archive.zip!member/path` logical paths.

Members are read into memory one at a time (bounded by MAX_MEMBER_BYTES; larger members are hashed
from the stream and not decoded). Nothing is extracted to disk: evidence stays where it is.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_MEMBER_BYTES = 256 << 20
SEPARATOR = "!"


@dataclass
class Member:
    """One file inside an archive: its name, size, and either its bytes or an error."""

    name: str
    size: int
    data: bytes | None = None
    stream: BinaryIO | None = None  # for members too large to hold in memory
    error: str | None = None


class ArchiveError(Exception):
    """The archive itself cannot be listed (corrupt, truncated, unsupported)."""


def _clean(name: str) -> str:
    return "/".join(part for part in name.replace("\\", "/").split("/") if part not in ("", "."))


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
                yield Member(name, info.file_size, error="encrypted archive member (not decrypted)")
                continue
            try:
                with archive.open(info) as fh:
                    if info.file_size > MAX_MEMBER_BYTES:
                        yield Member(name, info.file_size, stream=fh)
                    else:
                        yield Member(name, info.file_size, data=fh.read())
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
                if not info.isfile():
                    continue
                name = _clean(info.name)
                fh = archive.extractfile(info)
                if fh is None:
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


def is_tar(source: BinaryIO) -> bool:
    """A gzip/bzip2/xz stream that holds a tar archive (a lone .gz file is not a container)."""
    try:
        with tarfile.open(fileobj=source, mode="r:*") as archive:
            return archive.next() is not None
    except (tarfile.TarError, OSError, EOFError):
        return False
    finally:
        source.seek(0)


def members(source: BinaryIO, mime: str) -> Iterator[Member]:
    """The files in an archive of type `mime`, sorted for zip, in stream order for tar."""
    if mime == "application/zip":
        yield from _zip_members(source)
    else:
        yield from _tar_members(source)

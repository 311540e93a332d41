"""Files inside archives (zip, tar, 7z) and compressed files (gz, bz2, xz), as `archive!member` paths.

Members are read into memory one at a time (bounded by MAX_MEMBER_BYTES; larger zip/tar/gz members
are hashed from the stream and not decoded). Nothing is extracted to disk: evidence stays where it is.
A lone compressed file (`photo.jpg.gz`) is a container of one member named without the suffix.
Encrypted members are reported, never guessed at.

Member names are shown exactly as the archive stores them — never resolved or cleaned (`../x.jpg`,
`/abs.jpg`, `a\\b.jpg` stay as they are; nothing is written to disk, so they cannot traverse
anything) — and `suspicious_name` says which ones an extracting tool would write outside its folder.
A name that is not valid UTF-8 keeps its bytes (decoded with surrogateescape). Two members with the
same name are told apart by `ordinal`: the Nth member of that exact name in the archive's order.

Data that is not what it claims (a random file that starts with `\x1f\x8b`, a truncated download, a
member whose compressed bytes are damaged) is told apart from a disk that fails: the first raises
ArchiveError or marks the member `damaged`; a real input/output error (`io_error`) is raised as the
OSError it is, so the caller can say the file could not be read. A method or size this reader does
not handle (an unsupported 7z method, py7zr's bomb guard) is neither: UnsupportedArchive, or a
member error that is not `damaged`.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import lzma
import re
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Collection, Iterator
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
    ordinal: int = 1  # the Nth member with this exact name, in the archive's order
    unread: bool = False  # not wanted by a read-back: `size` is what the scan held of it (0: nothing)
    damaged: bool = False  # an error because its data in the archive is corrupt or truncated

    @property
    def suspicious(self) -> bool:
        return suspicious_name(self.name)


class ArchiveError(Exception):
    """The data is not a valid archive or compressed file of its kind (corrupt, truncated, or not one
    at all): it cannot be listed or decompressed, or its members' data stopped being readable."""


class UnsupportedArchive(ArchiveError):
    """A valid-looking archive this reader cannot list (a compression method it lacks)."""


class EncryptedArchive(UnsupportedArchive):
    """The archive's list of files is itself encrypted (7z with an encrypted header)."""


# what decompressors and archive readers raise on data that is not what it claims to be
_CORRUPT = (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError, struct.error)


def _io_cause(exc: BaseException | None) -> OSError | None:
    """The real input/output error behind `exc`, if any (see io_error)."""
    for _ in range(8):  # the exception, then what it was raised while handling
        if exc is None:
            return None
        if isinstance(exc, OSError) and exc.errno is not None and exc.errno != errno.EINVAL:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def io_error(exc: BaseException | None) -> bool:
    """A real input/output error — the disk or the file system, not the data: an OSError with an
    errno (EIO, ENOENT of a file that vanished, EACCES...), or an exception raised while handling
    one (zipfile turns an EIO into BadZipFile; the decoders raise `from None`, which keeps it as
    the context). Corrupt data raises OSErrors without an errno (gzip's BadGzipFile, bz2's "Invalid
    data stream", Pillow's "image file is truncated"); EINVAL is left out too: it is what seeking a
    real file to a corrupt (negative) offset raises."""
    return _io_cause(exc) is not None


def _raise_io(exc: BaseException) -> None:
    """Raise the real input/output error behind `exc`, if any, as the OSError it is."""
    if (cause := _io_cause(exc)) is not None:
        raise cause


class _Checked:
    """A member's stream (too large to hold) whose corrupt data raises ArchiveError when read."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream

    def read(self, n: int = -1) -> bytes:
        try:
            return self.stream.read(n)
        except (*_CORRUPT, tarfile.TarError, zipfile.BadZipFile) as exc:
            _raise_io(exc)
            raise ArchiveError(f"cannot read archive member: {exc}") from None


_DRIVE = re.compile(r"[A-Za-z]:")
_PARTS = re.compile(r"[/\\]")
Wanted = Collection[tuple[str, int]]  # (name, ordinal) of the members to read; None: all


def suspicious_name(name: str) -> bool:
    """A member name an extracting tool would resolve outside its folder or could not write as a
    file: absolute (`/x`, `\\x`, `C:x`), with a `..` component (`/` or `\\` separated), empty, or a
    folder name (`x/`) that holds data."""
    if not name or name.startswith(("/", "\\")) or _DRIVE.match(name) or name.endswith("/"):
        return True
    return ".." in _PARTS.split(name)


class _Numbering:
    """Ordinals of names in archive order, and which members a read-back wants."""

    def __init__(self, wanted: Wanted | None):
        self.seen: dict[str, int] = {}
        self.wanted = None if wanted is None else set(wanted)

    def take(self, name: str) -> tuple[int, bool]:
        """The ordinal of this occurrence of `name`, and whether it is wanted."""
        ordinal = self.seen[name] = self.seen.get(name, 0) + 1
        return ordinal, self.wanted is None or (name, ordinal) in self.wanted


def _held(size: int) -> int:
    """What the scan holds in memory of a member of `size` bytes (larger ones are streamed)."""
    return size if 0 <= size <= MAX_MEMBER_BYTES else 0


_UTF8_FLAG = 0x800
_CENTRAL = struct.Struct(zipfile.structCentralDir)


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member's name as stored: UTF-8 where it is, else its raw bytes kept (surrogateescape)."""
    if info.flag_bits & _UTF8_FLAG:
        return info.orig_filename
    raw = info.orig_filename.encode("cp437")  # zipfile decoded the stored bytes as cp437: undo it
    return raw.decode("utf-8", "surrogateescape")


class _Overlay:
    """A read-only file with some of its bytes replaced (zip flags)."""

    def __init__(self, source: BinaryIO):
        self.source, self.pos, self.patches = source, 0, []
        source.seek(0, 2)
        self.size = source.tell()

    def patch(self, start: int, data: bytes) -> None:
        self.patches.append((start, data))

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else self.pos + offset if whence == 1 else self.size + offset
        return self.pos

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = max(self.size - self.pos, 0)
        self.source.seek(self.pos)
        data = bytearray(self.source.read(n))
        for start, patched in self.patches:
            lo, hi = max(self.pos, start), min(self.pos + len(data), start + len(patched))
            if lo < hi:
                data[lo - self.pos : hi - self.pos] = patched[lo - start : hi - start]
        self.pos += len(data)
        return bytes(data)


def _clear_flag(flags: int) -> bytes:
    return struct.pack("<H", flags & ~_UTF8_FLAG)


def _bad_utf8_names_as_bytes(source: BinaryIO) -> zipfile.ZipFile:
    """The archive, read with the UTF-8 flag cleared (in its central directory and local headers)
    on members whose name is not valid UTF-8 — zipfile would refuse the whole archive — so their
    names are read as raw bytes (see _zip_name); every other member is read as it is."""
    endrec = zipfile._EndRecData(source)  # noqa: SLF001 - the stdlib's own end-record reader
    if not endrec:
        raise ArchiveError("cannot read zip archive: no end of central directory")
    size_cd = endrec[zipfile._ECD_SIZE]  # noqa: SLF001
    start = endrec[zipfile._ECD_LOCATION] - size_cd  # noqa: SLF001
    if endrec[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # noqa: SLF001
        start -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    source.seek(start)
    cd = bytearray(source.read(size_cd))
    pos, index, cleared = 0, 0, []
    while pos + _CENTRAL.size <= len(cd) and cd[pos : pos + 4] == zipfile.stringCentralDir:
        fields = _CENTRAL.unpack_from(cd, pos)
        n_name, n_extra, n_comment = fields[12], fields[13], fields[14]
        if fields[5] & _UTF8_FLAG:
            try:
                bytes(cd[pos + _CENTRAL.size : pos + _CENTRAL.size + n_name]).decode("utf-8")
            except UnicodeDecodeError:
                cd[pos + 8 : pos + 10] = _clear_flag(fields[5])
                cleared.append(index)
        pos += _CENTRAL.size + n_name + n_extra + n_comment
        index += 1
    overlay = _Overlay(source)
    overlay.patch(start, bytes(cd))
    archive = zipfile.ZipFile(overlay)  # type: ignore[arg-type]
    for k in cleared:
        if k < len(archive.filelist):
            offset = archive.filelist[k].header_offset + 6  # the local header's flags
            source.seek(offset)
            (flags,) = struct.unpack("<H", source.read(2))
            overlay.patch(offset, _clear_flag(flags))
    return archive


def _open_zip(source: BinaryIO) -> zipfile.ZipFile:
    try:
        try:
            return zipfile.ZipFile(source)
        except UnicodeDecodeError:  # a name flagged UTF-8 that is not: keep its bytes instead
            return _bad_utf8_names_as_bytes(source)
    except (zipfile.BadZipFile, *_CORRUPT) as exc:
        _raise_io(exc)
        raise ArchiveError(f"cannot read zip archive: {exc}") from None


def _zip_members(source: BinaryIO, wanted: Wanted | None) -> Iterator[Member]:
    archive = _open_zip(source)
    numbering = _Numbering(wanted)
    with archive:
        named = sorted(((_zip_name(i), i) for i in archive.infolist()), key=lambda p: p[0])
        for name, info in named:
            if info.filename.endswith("/") and info.file_size == 0 and info.compress_size == 0:
                continue  # a folder entry: nothing in it to read (its files are members of their own)
            ordinal, want = numbering.take(name)
            if not want:
                held = 0 if info.flag_bits & 0x1 else _held(info.file_size)
                yield Member(name, held, ordinal=ordinal, unread=True)
                continue
            if info.flag_bits & 0x1:
                yield Member(name, info.file_size, error=ENCRYPTED, encrypted=True, ordinal=ordinal)
                continue
            try:
                with archive.open(info) as fh:
                    if info.file_size > MAX_MEMBER_BYTES:
                        yield Member(name, info.file_size, stream=_Checked(fh), ordinal=ordinal)
                    else:
                        data = fh.read(MAX_MEMBER_BYTES + 1)
                        yield Member(name, info.file_size, data=data, ordinal=ordinal)
            except NotImplementedError as exc:  # a compression method zipfile lacks: not damage
                yield Member(
                    name, info.file_size, error=f"cannot read archive member: {exc}", ordinal=ordinal
                )
            except (zipfile.BadZipFile, *_CORRUPT) as exc:
                _raise_io(exc)
                yield Member(
                    name,
                    info.file_size,
                    error=f"cannot read archive member: {exc}",
                    ordinal=ordinal,
                    damaged=True,
                )


def _tar_members(source: BinaryIO, wanted: Wanted | None) -> Iterator[Member]:
    try:
        archive = tarfile.open(fileobj=source, mode="r:*")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, *_CORRUPT) as exc:
        _raise_io(exc)
        raise ArchiveError(f"cannot read tar archive: {exc}") from None
    numbering = _Numbering(wanted)
    with archive:
        try:
            for info in archive:  # streaming order: a .tar.gz cannot seek backwards cheaply
                if info.isdir():
                    continue
                name = info.name  # as stored (tarfile keeps undecodable bytes by surrogateescape)
                ordinal, want = numbering.take(name)
                if not want:
                    held = _held(info.size) if info.isfile() or info.islnk() else 0
                    yield Member(name, held, ordinal=ordinal, unread=True)
                    continue
                if not (info.isfile() or info.islnk()):  # listed, never followed or opened
                    yield Member(name, 0, error=_not_a_file(info), ordinal=ordinal)
                    continue
                try:
                    fh = archive.extractfile(info)  # a hard link reads the file it links to
                except (tarfile.TarError, KeyError) as exc:
                    yield Member(name, info.size, error=f"cannot read archive member: {exc}", ordinal=ordinal)
                    continue
                if fh is None:
                    yield Member(name, info.size, error="cannot read archive member", ordinal=ordinal)
                    continue
                try:
                    if info.size > MAX_MEMBER_BYTES:
                        yield Member(name, info.size, stream=_Checked(fh), ordinal=ordinal)
                    else:
                        yield Member(name, info.size, data=fh.read(), ordinal=ordinal)
                except (tarfile.TarError, *_CORRUPT) as exc:
                    _raise_io(exc)
                    error = f"cannot read archive member: {exc}"
                    yield Member(name, info.size, error=error, ordinal=ordinal, damaged=True)
        except (tarfile.TarError, *_CORRUPT) as exc:
            _raise_io(exc)
            raise ArchiveError(f"archive is truncated or corrupt: {exc}") from None


def _not_a_file(info: tarfile.TarInfo) -> str:
    if info.issym():
        target = info.linkname.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return f"symbolic link inside the archive (to {target}): not followed"
    kinds = ((info.isfifo, "named pipe"), (info.ischr, "character device"), (info.isblk, "block device"))
    kind = next((name for test, name in kinds if test()), "special entry")
    return f"{kind} inside the archive: not read"


class _Products:
    """A py7zr writer factory that keeps what it is given by file id, whatever the member's name."""

    def __init__(self, limit: int):
        from py7zr.io import Py7zBytesIO

        self.limit, self.made, self._io = limit, {}, Py7zBytesIO

    def create(self, key: str):
        product = self.made[key] = self._io(key, self.limit)
        return product


def _7z_extract(archive, ids: set[int], limit: int) -> dict:
    """Decompress the members with these ids (file ids in the archive) into memory, in one pass.
    py7zr's own extract() resolves names as paths (refusing `../x`, merging `a\\b` with `a/b`), so the
    members are handed to its worker by id, each to a buffer of its own."""
    from py7zr.py7zr import MemIO

    products = _Products(limit)
    for f in archive.files:
        wanted = f.id in ids and not f.is_directory
        archive.worker.register_filelike(f.id, MemIO(str(f.id), products) if wanted else None)
    archive.worker.extract(archive.fp, None, parallel=False)
    return products.made


def _7z_members(source: BinaryIO, budget: int, wanted: Wanted | None) -> Iterator[Member]:
    """7z is usually solid (one compressed stream for all files), so members are decompressed in one
    pass into memory, at most `budget` bytes in all; what does not fit is reported, not read. The
    names are as py7zr reads them: it turns a `\\` in a 7z name into `/` (7-Zip writes Windows
    paths with `\\`), so a 7z member's `\\` is shown as `/`."""
    import py7zr

    try:
        archive = py7zr.SevenZipFile(source, "r")
    except py7zr.exceptions.PasswordRequired:
        raise EncryptedArchive("encrypted 7z archive: its file list is encrypted (not decrypted)") from None
    except py7zr.exceptions.UnsupportedCompressionMethodError as exc:
        raise UnsupportedArchive(f"cannot read 7z archive: unsupported method: {exc}") from None
    except (py7zr.exceptions.ArchiveError, *_CORRUPT) as exc:
        _raise_io(exc)
        raise ArchiveError(f"cannot read 7z archive: {exc}") from None
    numbering = _Numbering(wanted)
    with archive:
        files = sorted((f for f in archive.files if not f.is_directory), key=lambda f: f.filename)
        infos = [(f, *numbering.take(f.filename)) for f in files]
        if archive.needs_password():
            for f, ordinal, want in infos:
                if want:
                    yield Member(f.filename, f.uncompressed, error=ENCRYPTED, encrypted=True, ordinal=ordinal)
                else:
                    yield Member(f.filename, 0, ordinal=ordinal, unread=True)
            return
        ids, fits, total = set(), set(), 0
        for f, _, want in infos:
            total += f.uncompressed
            if f.uncompressed <= MAX_MEMBER_BYTES and total <= budget:
                fits.add(f.id)
                if want:
                    ids.add(f.id)
        try:
            products = _7z_extract(archive, ids, MAX_MEMBER_BYTES + 1) if ids else {}
            failure, damaged = None, False
        except Exception as exc:  # noqa: BLE001 - py7zr raises many kinds on corrupt data
            _raise_io(exc)
            products, failure = {}, f"cannot read archive member: {type(exc).__name__}: {exc}"
            unsupported = py7zr.exceptions.UnsupportedCompressionMethodError
            damaged = not isinstance(exc, unsupported | py7zr.exceptions.DecompressionBombError)
        for f, ordinal, want in infos:
            name, size = f.filename, f.uncompressed
            product = products.get(str(f.id))
            if not want:
                yield Member(name, size if f.id in fits else 0, ordinal=ordinal, unread=True)
            elif f.id not in ids:
                yield Member(
                    name, size, error="not expanded: over the archive expansion limit", ordinal=ordinal
                )
            elif failure:
                yield Member(name, size, error=failure, ordinal=ordinal, damaged=damaged)
            elif product is None:
                yield Member(name, size, data=b"", ordinal=ordinal)  # py7zr writes nothing for 0 bytes
            else:
                product.seek(0)
                yield Member(name, size, data=product.read(), ordinal=ordinal)


def _single_member(source: BinaryIO, mime: str, archive_name: str) -> Iterator[Member]:
    opener, suffixes = _COMPRESSED[mime]
    base = archive_name.rsplit("/", 1)[-1]
    lowered = base.lower()
    name = next((base[: -len(s)] for s in suffixes if lowered.endswith(s) and len(base) > len(s)), None)
    name = name or base + ".uncompressed"
    try:
        stream = opener(source)
        data = stream.read(MAX_MEMBER_BYTES + 1)
    except _CORRUPT as exc:
        _raise_io(exc)
        raise ArchiveError(f"cannot decompress: {exc}") from None
    if len(data) > MAX_MEMBER_BYTES:
        source.seek(0)
        yield Member(name, -1, stream=_Checked(opener(source)))
    else:
        yield Member(name, len(data), data=data)


def is_tar(source: BinaryIO) -> bool:
    """A (possibly gzip/bzip2/xz-compressed) stream that holds a tar archive."""
    try:
        with tarfile.open(fileobj=source, mode="r:*") as archive:
            return archive.next() is not None
    except (tarfile.TarError, *_CORRUPT) as exc:
        _raise_io(exc)
        return False
    finally:
        source.seek(0)


def members(
    source: BinaryIO,
    mime: str,
    archive_name: str = "",
    budget: int = 1 << 40,
    wanted: Wanted | None = None,
) -> Iterator[Member]:
    """The files in a container of type `mime`: sorted by name for zip and 7z, in stream order for
    tar. `archive_name` names a lone compressed file's member; `budget` caps what 7z holds in memory;
    `wanted` ((name, ordinal) pairs) reads only those members (a read-back: nothing else is
    decompressed where the format allows); the others are yielded `unread`, with the size the scan
    held of them, so a read-back counts them against its expansion budget as the scan did."""
    if mime == "application/zip":
        yield from _zip_members(source, wanted)
    elif mime == "application/x-7z-compressed":
        yield from _7z_members(source, budget, wanted)
    elif mime == "application/x-tar" or is_tar(source):
        yield from _tar_members(source, wanted)
    else:
        yield from _single_member(source, mime, archive_name)

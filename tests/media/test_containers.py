from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from vigil.media.containers import ArchiveError, is_tar, members


def make_zip(files: dict[str, bytes], encrypted: set[str] = frozenset()) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    raw = bytearray(buf.getvalue())
    for name in encrypted:  # set the "encrypted" flag, as a password-protected member has it
        for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = 0
            while (at := raw.find(signature, at)) >= 0:
                name_at = at + (30 if flag_at == 6 else 46)
                if raw[name_at : name_at + len(name)] == name.encode():
                    raw[at + flag_at] |= 0x1
                at += 4
    return io.BytesIO(bytes(raw))


def make_tar(files: dict[str, bytes], mode: str = "w:gz") -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def test_zip_members_sorted_with_names_as_stored():
    got = list(members(make_zip({"b/2.txt": b"two", "./a//1.txt": b"one", "dir/": b""}), "application/zip"))
    assert [(m.name, m.data) for m in got] == [("./a//1.txt", b"one"), ("b/2.txt", b"two")]


def test_encrypted_zip_member_is_reported_not_read():
    got = list(members(make_zip({"x.jpg": b"secret", "y.txt": b"open"}, {"x.jpg"}), "application/zip"))
    assert got[0].name == "x.jpg" and got[0].data is None and "encrypted" in got[0].error
    assert got[1].data == b"open"


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_tar_members_in_every_compression(mode):
    buf = make_tar({"p/q.jpg": b"abc"}, mode)
    assert is_tar(buf) and buf.tell() == 0
    got = list(members(buf, "application/gzip"))
    assert [(m.name, m.data, m.size) for m in got] == [("p/q.jpg", b"abc", 3)]


def test_lone_gzip_is_not_an_archive():
    import gzip

    assert not is_tar(io.BytesIO(gzip.compress(b"just a file")))


def test_corrupt_archives_raise_archive_error():
    with pytest.raises(ArchiveError):
        list(members(io.BytesIO(b"PK\x03\x04" + b"\x00" * 50), "application/zip"))
    data = make_tar({"a": b"x" * 5000}, "w:gz").getvalue()
    with pytest.raises(ArchiveError):
        list(members(io.BytesIO(data[: len(data) // 2]), "application/gzip"))


def make_7z(files: dict[str, bytes], password: str | None = None, header: bool = False) -> io.BytesIO:
    import py7zr

    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password=password, header_encryption=header) as z:
        for name, data in files.items():
            z.writestr(data, name)
    buf.seek(0)
    return buf


def test_7z_members_sorted():
    got = list(members(make_7z({"b.txt": b"two", "a/1.jpg": b"one"}), "application/x-7z-compressed"))
    assert [(m.name, m.data) for m in got] == [("a/1.jpg", b"one"), ("b.txt", b"two")]


def test_encrypted_7z_is_reported_as_such():
    from vigil.media.containers import EncryptedArchive

    got = list(members(make_7z({"x.jpg": b"secret"}, password="pw"), "application/x-7z-compressed"))
    assert [(m.name, m.encrypted, m.data) for m in got] == [("x.jpg", True, None)]
    with pytest.raises(EncryptedArchive):
        list(
            members(make_7z({"x.jpg": b"secret"}, password="pw", header=True), "application/x-7z-compressed")
        )


@pytest.mark.parametrize(
    ("module", "mime", "name", "member"),
    [
        ("gzip", "application/gzip", "photo.jpg.gz", "photo.jpg"),
        ("bz2", "application/x-bzip2", "dump.BZ2", "dump"),
        ("lzma", "application/x-xz", "x.xz", "x"),
        ("gzip", "application/gzip", "noext", "noext.uncompressed"),
    ],
)
def test_lone_compressed_file_is_a_container_of_one(module, mime, name, member):
    import importlib

    data = importlib.import_module(module).compress(b"inside")
    got = list(members(io.BytesIO(data), mime, f"dir/{name}"))
    assert [(m.name, m.data) for m in got] == [(member, b"inside")]


def test_tar_links_and_special_entries_are_listed_not_dropped():
    """Issue 10, item 8 inside archives: a symlink, a FIFO or a device in a tar is an entry with the
    reason it was not read (never followed); a hard link reads the file it links to."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("a.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
        for name, kind, target in (
            ("hard", tarfile.LNKTYPE, "a.txt"),
            ("sym", tarfile.SYMTYPE, "/etc/passwd"),
            ("pipe", tarfile.FIFOTYPE, ""),
            ("dev", tarfile.CHRTYPE, ""),
            ("folder", tarfile.DIRTYPE, ""),
        ):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            t.addfile(info)
    buf.seek(0)
    found = {m.name: (m.data, m.error) for m in members(buf, "application/x-tar")}
    assert found == {
        "a.txt": (b"abc", None),
        "hard": (b"abc", None),
        "sym": (None, "symbolic link inside the archive (to /etc/passwd): not followed"),
        "pipe": (None, "named pipe inside the archive: not read"),
        "dev": (None, "character device inside the archive: not read"),
    }


def test_a_tar_whose_first_member_is_named_like_a_magic_is_still_a_tar():
    """A tar starts with its first member's name: `\\xff\\xd8\\xff…` or `PK\\x03\\x04…` there must not pass
    the tar off as a JPEG or a zip (its members would never be read)."""
    import tarfile

    from vigil.media.sniff import HEAD_BYTES, sniff

    for first in ("\udcff\udcd8\udcff", "PK\x03\x04x", "\udc89PNG\r\n\x1a\n"):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, errors="surrogateescape") as t:
            for name in (first, "b.txt"):
                info = tarfile.TarInfo(name)
                info.size = 1
                t.addfile(info, io.BytesIO(b"x"))
        data = buf.getvalue()
        assert sniff(data[:HEAD_BYTES]) == "application/x-tar", repr(first)
        got = [m.name for m in members(io.BytesIO(data), "application/x-tar")]
        assert got == [first, "b.txt"]

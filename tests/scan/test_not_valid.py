"""Content that only looks like a format (issue "Triage at disk scale"): a file whose first bytes are a
gzip, zip, JPEG, MP4... magic but that is not one is digested and flagged `not-a-valid-<kind>`, with
no error; `error` stays for what could not be read or examined (I/O errors, limits, encryption)."""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import image_bytes
from tests.media.test_containers import make_7z, make_tar, make_zip
from vigil.media import containers
from vigil.media.images import DecodeError
from vigil.media.sniff import KINDS, kind, sniff
from vigil.scan import hashing
from vigil.scan.hashing import FLAGS, NOT_VALID, NOT_VALID_FLAGS, Hasher, hash_bytes, hash_file, not_valid


def _tar_head() -> bytes:
    """A valid tar header of a 1 MiB member: whatever follows it (at most a few KiB) is truncated."""
    info = tarfile.TarInfo("x.jpg")
    info.size = 1 << 20
    return info.tobuf(tarfile.USTAR_FORMAT)


# the first bytes of each kind; the test appends random bytes
HEADS = {
    "gzip": b"\x1f\x8b",
    "bzip2": b"BZh",
    "xz": b"\xfd7zXZ\x00",
    "zip": b"PK\x03\x04",
    "tar": _tar_head(),
    "7z": b"7z\xbc\xaf\x27\x1c",
    "jpeg": b"\xff\xd8\xff",
    "png": b"\x89PNG\r\n\x1a\n",
    "gif": b"GIF89a",
    "webp": b"RIFF\x00\x00\x00\x00WEBP",
    "bmp": b"BM" + bytes(12) + (40).to_bytes(4, "little"),
    "tiff": b"II*\x00",
    "heic": b"\x00\x00\x00\x18ftypheic",
    "avif": b"\x00\x00\x00\x18ftypavif",
    "mp4": b"\x00\x00\x00\x18ftypisom",
    "mov": b"\x00\x00\x00\x14ftypqt  ",
    "webm": b"\x1aE\xdf\xa3",
    "avi": b"RIFF\x00\x00\x00\x00AVI ",
}


def _digests(data: bytes) -> tuple[str, str, str]:
    return hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest()


def _assert_not_valid(item: hashing.Item, data: bytes, name: str) -> None:
    assert (item.md5, item.sha1, item.sha256) == _digests(data)
    assert item.size == len(data)
    assert item.error is None
    assert f"not-a-valid-{name}" in item.flags and not_valid(item.flags)


def test_every_kind_has_a_flag_described():
    # disk images are not decoded by the Hasher: their flag is for the scan's task to set
    assert set(HEADS) == set(KINDS.values()) - {"disk-image"}
    for name in KINDS.values():
        assert FLAGS[NOT_VALID + name].startswith("starts like a")
    assert set(NOT_VALID_FLAGS) == {NOT_VALID + name for name in KINDS.values()}
    assert not_valid(["carved", "not-a-valid-gif"]) and not not_valid(["carved", "encrypted"])
    assert not not_valid([]) and not not_valid(())


@pytest.mark.parametrize("name", HEADS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tail=st.binary(max_size=4096))
@example(tail=b"")
@example(tail=bytes(100))
@example(tail=b"\xff" * 600)
def test_random_bytes_after_a_magic_are_digested_and_flagged(name, tail):
    data = HEADS[name] + tail
    items = Hasher().data(data, "evidence.bin")
    item = items[0]
    assert kind(item.type) == name
    assert (item.md5, item.sha1, item.sha256) == _digests(data)
    if item.error and "exceeds limit" in item.error:
        # a header that claims more pixels than the limit is refused before decoding: a limit (an
        # error), not a verdict on the content (random GIF, BMP, TIFF... headers often do)
        assert not not_valid(item.flags)
        return
    if item.pdq or item.vpdq:
        return  # the random bytes happen to make a real picture: nothing to flag
    _assert_not_valid(item, data, name)
    for member in items[1:]:  # a truncated tar lists its member, which has no bytes
        assert member.error and member.error.startswith("cannot read archive member")


@pytest.mark.parametrize("name", ["gzip", "zip", "jpeg", "mp4"])
def test_hash_file_of_a_random_file_with_a_magic(tmp_path, name):
    """The issue: a random binary in a large scan, whose first bytes happen to be a magic."""
    data = HEADS[name] + bytes(range(256)) * 40
    path = tmp_path / "random.bin"
    path.write_bytes(data)
    (item,) = hash_file(str(path), "random.bin")
    _assert_not_valid(item, data, name)
    # `vigil hash` (hash_bytes) decodes but does not expand: only a picture or video is flagged there
    expected = [] if name in ("gzip", "zip") else [NOT_VALID + name]
    assert hash_bytes(data, "random.bin").flags == expected


@pytest.mark.parametrize(
    "fmt, name",
    [("JPEG", "jpeg"), ("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp"), ("TIFF", "tiff"), ("BMP", "bmp")],
)
def test_a_truncated_real_picture_is_not_a_valid_one(pictures, fmt, name):
    data = image_bytes(pictures[0], fmt)
    cut = data[: len(data) // 3]
    assert kind(sniff(cut[:2048])) == name
    item = hash_bytes(cut, f"photo.{name}")
    _assert_not_valid(item, cut, name)
    assert item.pdq is None


def test_an_m4a_is_audio_not_a_broken_video():
    data = b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00isomM4A " + bytes(500)
    item = hash_bytes(data, "song.m4a")
    assert item.type == "audio/mp4" and item.flags == [] and item.error is None


@pytest.mark.parametrize("head", [b"\x28\xb5\x2f\xfd", b"Rar!\x1a\x07\x00", b"%PDF-"])
def test_kinds_never_decoded_are_neither_flagged_nor_errors(head):
    # zstd and rar are not recognised (octet-stream); a PDF is only carved
    items = Hasher().data(head + bytes(range(256)) * 8, "x.bin")
    assert all(it.error is None and not not_valid(it.flags) for it in items)


def test_a_damaged_member_flags_its_archive_and_keeps_its_error():
    """The rule at the boundary: the archive's bytes are not a valid zip (flag); the damaged member,
    which has no bytes, keeps its error; the other members are read as usual."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", b"hello world " * 200)
        z.writestr("b.txt", b"fine")
    data = bytearray(buf.getvalue())
    at = data.find(b"a.txt") + len(b"a.txt") + 10  # inside a.txt's deflated data
    data[at : at + 20] = bytes(b ^ 0x55 for b in data[at : at + 20])
    items = {it.path: it for it in Hasher().data(bytes(data), "a.zip")}
    _assert_not_valid(items["a.zip"], bytes(data), "zip")
    assert items["a.zip!a.txt"].md5 is None and "cannot read archive member" in items["a.zip!a.txt"].error
    assert not items["a.zip!a.txt"].flags
    assert items["a.zip!b.txt"].error is None and items["a.zip!b.txt"].md5 == hashlib.md5(b"fine").hexdigest()


def test_a_bad_crc_is_damage():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.txt", b"hello world " * 20)
    data = bytearray(buf.getvalue())
    data[data.find(b"hello")] ^= 1
    items = Hasher().data(bytes(data), "a.zip")
    _assert_not_valid(items[0], bytes(data), "zip")
    assert "Bad CRC-32" in items[1].error


def test_a_compression_method_the_reader_lacks_is_an_error_not_damage():
    data = bytearray(make_zip({"a.txt": b"abc"}).getvalue())
    for signature, method_at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(signature)
        data[at + method_at : at + method_at + 2] = (9).to_bytes(2, "little")  # deflate64
    items = Hasher().data(bytes(data), "a.zip")
    assert items[0].error is None and items[0].flags == []
    assert "not supported" in items[1].error


def test_a_truncated_tar_gz_is_flagged_by_its_outer_kind_and_lists_what_it_could():
    data = make_tar({"m0": bytes(range(256)) * 20, "m1": bytes(range(255, -1, -1)) * 200}).getvalue()
    cut = data[: len(data) * 3 // 4]
    items = {it.path: it for it in Hasher().data(cut, "b.tar.gz")}
    _assert_not_valid(items["b.tar.gz"], cut, "gzip")
    assert items["b.tar.gz!m0"].error is None and items["b.tar.gz!m0"].size == 5120
    assert "cannot read archive member" in items["b.tar.gz!m1"].error


def test_a_damaged_7z_is_flagged():
    data = bytearray(make_7z({"a.txt": b"a" * 1000, "b.txt": b"b"}).getvalue())
    data[40] ^= 0xFF
    items = Hasher().data(bytes(data), "c.7z")
    _assert_not_valid(items[0], bytes(data), "7z")
    assert all("cannot read archive member" in it.error for it in items[1:])


def test_a_damaged_member_too_large_to_hold_is_flagged_while_streamed(monkeypatch):
    monkeypatch.setattr(containers, "MAX_MEMBER_BYTES", 1000)  # members over it are streamed
    payload = bytes(range(256)) * 100
    whole = gzip.compress(payload)
    cut = whole[: len(whole) - 40]  # decompresses past 1000 bytes, then ends early
    items = Hasher().data(cut, "big.bin.gz")
    _assert_not_valid(items[0], cut, "gzip")
    assert [it.path for it in items] == ["big.bin.gz", "big.bin.gz!big.bin"]
    assert items[1].md5 is None and "cannot read archive member" in items[1].error


def test_a_picture_over_the_pixel_limit_stays_an_error():
    # a GIF whose screen and frame claim 60000 x 60000 pixels: refused before decoding
    size = (60000).to_bytes(2, "little") * 2
    data = b"GIF89a" + size + b"\x00\x00\x00" + b"," + bytes(4) + size + b"\x00\x02\x02\x44\x01\x00;"
    item = hash_bytes(data, "huge.gif")
    assert "exceeds limit" in item.error and item.flags == [] and item.md5 == hashlib.md5(data).hexdigest()


def test_encrypted_members_and_depth_limits_stay_errors():
    items = Hasher().data(make_zip({"x.jpg": b"x"}, {"x.jpg"}).getvalue(), "a.zip")
    assert items[1].error and items[1].flags == ["encrypted"] and not not_valid(items[0].flags)
    deep = Hasher(limits=hashing.Limits(max_depth=0)).data(make_zip({"y": b"y"}).getvalue(), "d.zip")
    assert "deeper than 0" in deep[0].error and not not_valid(deep[0].flags)


# --- real input/output errors stay "could not be read" -------------------------------------------


class _FailingFile:
    """A file (a real one, or BytesIO) whose reads fail as a failing disk's do (EIO) from byte `bad`
    on (None: never); everything else — fileno, seek, tell, close — is the file's own."""

    def __init__(self, raw, bad: int | None = 0):
        self.raw, self.bad = raw, bad

    def __getattr__(self, name):
        return getattr(self.raw, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.raw.close()

    def read(self, n: int | None = -1) -> bytes:
        if self.bad is not None:
            at = self.raw.tell()
            end = self.raw.seek(0, 2)
            self.raw.seek(at)
            wanted = end - at if n is None or n < 0 else n
            if at + max(wanted, 1) > self.bad:
                raise OSError(errno.EIO, "Input/output error")
        return self.raw.read(n)

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _failing_open(monkeypatch, bad_on: Callable[[int], int | None]) -> list[str]:
    """Make the Hasher's files fail: the Nth open (from 1) fails from byte bad_on(N) on."""
    opened: list[str] = []

    def fake_open(path, *args, **kwargs):
        opened.append(path)
        return _FailingFile(open(path, *args, **kwargs), bad_on(len(opened)))  # noqa: SIM115

    monkeypatch.setattr(hashing, "open", fake_open, raising=False)
    monkeypatch.setattr(hashing, "_small_file", lambda _path: None)  # every file read through open
    return opened


def test_an_io_error_reading_a_small_file_is_an_error(tmp_path, monkeypatch):
    path = tmp_path / "x.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(100))

    def failing(_path):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(hashing, "_small_file", failing)
    (item,) = hash_file(str(path), "x.gz")
    assert item.error == "cannot read file: Input/output error" and item.md5 is None


def test_an_io_error_reading_a_file_is_an_error(tmp_path, monkeypatch):
    path = tmp_path / "x.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(100))
    _failing_open(monkeypatch, lambda n: 0)
    (item,) = hash_file(str(path), "x.gz")
    assert item.error == "cannot read file: Input/output error" and item.md5 is None
    assert not not_valid(item.flags)


def test_an_io_error_expanding_a_large_archive_keeps_its_digests(tmp_path, monkeypatch):
    """A file too large to hold is digested in one pass and expanded in another: when the disk fails
    in the second, the archive keeps its digests and says it could not be read — not "not valid"."""
    data = make_zip({"a.txt": b"a" * 3000, "b.txt": b"b" * 3000}).getvalue()
    path = tmp_path / "big.zip"
    path.write_bytes(data)
    monkeypatch.setattr(hashing, "IN_MEMORY_BYTES", 100)
    opened = _failing_open(monkeypatch, lambda n: None if n == 1 else 0)
    items = hash_file(str(path), "big.zip")
    assert len(opened) == 2
    assert items[0].error == "cannot read file: Input/output error" and not not_valid(items[0].flags)
    assert (items[0].md5, items[0].sha1, items[0].sha256) == _digests(data)


def test_an_io_error_decoding_a_large_picture_is_an_error(monkeypatch):
    def failing_decode(source, mime="", **options):
        try:
            raise OSError(errno.EIO, "Input/output error")
        except OSError as exc:
            raise DecodeError(f"cannot decode {mime}: {exc}") from None

    monkeypatch.setattr(hashing, "decode_luma", failing_decode)
    item = hash_bytes(HEADS["jpeg"] + bytes(100), "x.jpg")
    assert "Input/output error" in item.error and item.flags == []


def test_containers_raise_a_real_io_error_as_it_is():
    data = make_zip({"a.txt": b"a" * 3000}).getvalue()
    with pytest.raises(OSError) as raised:
        list(containers.members(_FailingFile(io.BytesIO(data), bad=len(data) - 30), "application/zip"))
    assert raised.value.errno == errno.EIO
    assert containers.io_error(raised.value)
    assert not containers.io_error(gzip.BadGzipFile("Not a gzipped file"))
    assert not containers.io_error(OSError(errno.EINVAL, "Invalid argument"))


def test_a_file_that_looks_like_a_disk_image_but_is_not_one_is_flagged(tmp_path):
    """Any file of whole sectors with an ext superblock's magic at byte 1080 looks like a disk image
    (1 in 65,536 random files): one that does not open as one is hashed and flagged, not an error."""
    from vigil.scan.tasks import do_task, iter_tasks

    data = bytearray(random_bytes(64 << 10))
    data[1080:1082] = b"\x53\xef"
    (tmp_path / "cache.bin").write_bytes(bytes(data))
    (task,) = iter_tasks(tmp_path)
    assert task.flags == (f"{NOT_VALID}disk-image",)
    _, rows = do_task(task)
    item = hashing.Item.from_row(dict(zip(hashing.ROW_KEYS, rows[0], strict=True)))
    assert item.error is None and f"{NOT_VALID}disk-image" in item.flags
    assert item.sha256 == hashlib.sha256(data).hexdigest()


def random_bytes(n: int) -> bytes:
    import random

    return random.Random(n).randbytes(n)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_scan_flags_a_file_that_looks_like_a_disk_image_but_is_not_one(tmp_path, workers):
    """The scan's walk does not look into files: the worker reports the would-be image, and it is
    flagged once its listing fails, after every row is stored."""
    import json

    from tests.scan.conftest import cli

    data = bytearray(random_bytes(64 << 10))
    data[1080:1082] = b"\x53\xef"
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "cache.bin").write_bytes(bytes(data))
    (ev / "notes.txt").write_text("notes\n")
    db, out = str(tmp_path / "v.db"), tmp_path / "case.json"
    (tmp_path / "k.txt").write_text(hashlib.md5(b"x").hexdigest() + "\n")
    assert cli("hashset", "import", str(tmp_path / "k.txt"), "--name", "k", "--db", db) == 0
    assert cli("scan", str(ev), "--case", "c", "--json", str(out), "--db", db, "--workers", str(workers)) == 0
    report = json.loads(out.read_text())
    items = {it["path"]: it for it in report["items"]}
    assert items["cache.bin"]["flags"] == [f"{NOT_VALID}disk-image"] and items["cache.bin"]["error"] is None
    assert report["summary"]["invalid"] == 1

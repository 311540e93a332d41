"""Containers within containers, to any depth, with the bomb guards; encrypted archives reported."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import image_bytes
from tests.media.test_containers import make_7z, make_zip
from vigil.scan.hashing import Hasher, Limits


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def tarred(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_nested_gz_7z_tar_zip_reaches_the_photo(pictures):
    photo = image_bytes(pictures[0], "JPEG")
    data = gzip.compress(make_7z({"t.tar.xz": tarred("in/z.zip", zipped("p.jpg", photo))}).getvalue())
    items = Hasher().data(data, "box.7z.gz")
    paths = [it.path for it in items]
    assert paths == [
        "box.7z.gz",
        "box.7z.gz!box.7z",
        "box.7z.gz!box.7z!t.tar.xz",
        "box.7z.gz!box.7z!t.tar.xz!in/z.zip",
        "box.7z.gz!box.7z!t.tar.xz!in/z.zip!p.jpg",
    ]
    assert items[-1].pdq and items[-1].size == len(photo) and not any(it.error for it in items)


def nest(depth: int, payload: bytes) -> bytes:
    data = payload
    for level in range(depth):
        data = zipped(f"level{level}.zip" if level else "payload.txt", data)
    return data


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 12), st.integers(1, 10))
def test_depth_guard_stops_and_says_so(depth, limit):
    items = Hasher(limits=Limits(max_depth=limit)).data(nest(depth, b"x"), "outer.zip")
    assert len(items) == min(depth, limit) + 1  # the outer file plus one item per level expanded
    limited = [it for it in items if "expansion-limit" in it.flags]
    if depth > limit:
        assert len(limited) == 1 and f"deeper than {limit}" in limited[0].error
    else:
        assert not limited and items[-1].path.endswith("payload.txt")


def test_size_guard_against_a_zip_bomb():
    bomb = zipped("zeros.bin", bytes(50 << 20))  # 50 MB of zeros in ~50 kB
    assert len(bomb) < 100_000
    items = Hasher(limits=Limits(max_expanded_bytes=10 << 20)).data(bomb, "bomb.zip")
    assert items[0].flags == ["expansion-limit"] and "archive bomb guard" in items[0].error
    assert [it.path for it in items] == ["bomb.zip"]
    # within the limit it is just a big file
    items = Hasher().data(bomb, "bomb.zip")
    assert [it.size for it in items] == [len(bomb), 50 << 20] and not items[0].flags


def test_encrypted_archives_are_flagged(pictures):
    enc_zip = make_zip({"x.jpg": image_bytes(pictures[0], "JPEG"), "y.txt": b"y"}, {"x.jpg"}).getvalue()
    items = {it.path: it for it in Hasher().data(enc_zip, "a.zip")}
    assert items["a.zip"].flags == ["encrypted"]
    assert items["a.zip!x.jpg"].flags == ["encrypted"] and "encrypted" in items["a.zip!x.jpg"].error
    assert items["a.zip!y.txt"].flags == [] and items["a.zip!y.txt"].error is None
    enc_7z = make_7z({"x.jpg": b"secret"}, password="pw", header=True).getvalue()
    (item,) = Hasher().data(enc_7z, "b.7z")
    assert item.flags == ["encrypted"] and "encrypted 7z" in item.error


def test_corrupt_member_does_not_stop_the_rest():
    data = make_7z({"a.txt": b"a" * 1000, "b.txt": b"b"}).getvalue()
    broken = data[:40] + bytes(len(data) - 80) + data[-40:]
    items = Hasher().data(broken, "c.7z")
    # not a valid 7z: flagged, digested, no error (see hashing's module docstring); the scan goes on
    assert items[0].path == "c.7z" and items[0].error is None and items[0].flags == ["not-a-valid-7z"]
    assert items[0].md5 and all(it.error for it in items[1:])


def test_reading_back_for_thumbnails_keeps_the_guards(tmp_path, pictures):
    """Item 19: read_logical (thumbnails) opens containers under the scan's depth and size guards."""
    from vigil.scan.locate import read_logical

    photo = image_bytes(pictures[0], "JPEG")
    deep = photo
    names = ["p.jpg"]
    for level in range(4):
        deep = zipped(names[0], deep)
        names.insert(0, f"l{level}.zip")
    (tmp_path / "deep.zip").write_bytes(deep)
    location = ["deep.zip", *names[1:]]
    assert len(location) == 5  # four containers to open
    assert read_logical(tmp_path, location) == photo
    assert read_logical(tmp_path, location, Limits(max_depth=3)) is None
    assert read_logical(tmp_path, location, Limits(max_depth=4)) == photo

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a_zeros.bin", bytes(50 << 20))  # read on the way to the picture
        z.writestr("b.jpg", photo)
    (tmp_path / "bomb.zip").write_bytes(buf.getvalue())
    assert read_logical(tmp_path, ["bomb.zip", "b.jpg"], Limits(max_expanded_bytes=10 << 20)) is None
    assert read_logical(tmp_path, ["bomb.zip", "b.jpg"]) == photo
    # the scan stops at the same place, so the report has no thumbnail the scan did not reach
    items = Hasher(limits=Limits(max_expanded_bytes=10 << 20)).data(buf.getvalue(), "bomb.zip")
    assert [it.path for it in items] == ["bomb.zip"]

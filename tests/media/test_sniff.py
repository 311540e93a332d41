from __future__ import annotations

import io
import tarfile
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import image_bytes
from vigil.media.sniff import HEAD_BYTES, is_image, sniff

FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "HEIF": "image/heic",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_images_are_recognised_from_content(pictures, fmt):
    data = image_bytes(pictures[0], fmt)
    assert sniff(data[:HEAD_BYTES]) == FORMATS[fmt]
    assert is_image(sniff(data[:HEAD_BYTES]))


def test_archives_and_others():
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("a.txt", "x")
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w") as t:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        t.addfile(info, io.BytesIO(b"x"))
    assert sniff(zbuf.getvalue()[:HEAD_BYTES]) == "application/zip"
    assert sniff(tbuf.getvalue()[:HEAD_BYTES]) == "application/x-tar"
    assert sniff(b"\x1f\x8b\x08\x00") == "application/gzip"
    assert sniff(b"%PDF-1.7\n") == "application/pdf"
    assert sniff(b"hello, world\n") == "text/plain"
    assert sniff(b"\x00\x01\x02\x03") == "application/octet-stream"
    assert sniff(b"") == "application/octet-stream"
    assert sniff(b"BM not really a bitmap") == "text/plain"


@given(st.binary(max_size=HEAD_BYTES))
def test_sniff_never_fails_on_arbitrary_bytes(data):
    assert "/" in sniff(data)

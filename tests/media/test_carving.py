"""Hidden content: images appended to others, embedded in documents, and EXIF thumbnails that show a
different picture than the photo (an edited photo keeps its old thumbnail)."""

from __future__ import annotations

import io
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.conftest import image_bytes
from vigil.demo import picture, with_exif_thumbnail
from vigil.media.carving import jpeg_extent, png_extent
from vigil.scan.hashing import Hasher, hash_bytes


def small_jpeg(im: Image.Image, size=(160, 120)) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").resize(size).save(buf, "JPEG", quality=80)
    return buf.getvalue()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 50), st.sampled_from([(96, 72), (200, 150)]), st.binary(max_size=300), st.booleans())
def test_image_extent_ignores_what_follows(seed, size, tail, progressive):
    im = picture(seed, size).convert("RGB")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=75, progressive=progressive)
    jpeg = buf.getvalue()
    assert jpeg_extent(jpeg + tail)[0] == len(jpeg)
    assert jpeg_extent(jpeg[: len(jpeg) // 2]) is None  # truncated: not a complete image
    png = image_bytes(im, "PNG")
    assert png_extent(png + tail) == len(png)


def test_exif_thumbnail_is_hashed_and_a_different_one_flagged(pictures):
    photo = image_bytes(pictures[0], "JPEG")
    same = with_exif_thumbnail(photo, small_jpeg(pictures[0]))
    other = with_exif_thumbnail(photo, small_jpeg(pictures[3]))
    Image.open(io.BytesIO(other)).load()  # still a valid JPEG
    items = Hasher().data(same, "DCIM/a.jpg")
    assert [it.path for it in items] == ["DCIM/a.jpg", "DCIM/a.jpg!exif-thumbnail.jpg"]
    assert items[1].flags == ["carved", "exif-thumbnail"] and items[1].pdq
    assert items[1].md5 == hash_bytes(small_jpeg(pictures[0]), "t").md5
    assert "thumbnail-differs" not in items[0].flags
    edited = Hasher().data(other, "DCIM/b.jpg")
    assert edited[0].flags == ["thumbnail-differs"]


def test_image_appended_after_another_is_carved(pictures):
    cover = image_bytes(pictures[1], "JPEG")
    hidden = image_bytes(pictures[2], "PNG")
    items = Hasher().data(cover + hidden, "holiday.jpg")
    assert items[0].flags == ["appended-data"]
    assert [(it.path, it.md5, it.flags) for it in items[1:]] == [
        (f"holiday.jpg!@{len(cover)}.png", hash_bytes(hidden, "h").md5, ["carved"])
    ]
    assert Hasher().data(cover + b"\x00" * 64, "padded.jpg")[0].flags == []  # padding is not data


def test_images_embedded_in_pdf_and_docx(pictures):
    photo = image_bytes(pictures[3], "JPEG")
    pdf = (
        b"%PDF-1.4\n1 0 obj << /Type /XObject /Subtype /Image /Filter /DCTDecode /Length "
        + str(len(photo)).encode()
        + b" >>\nstream\n"
        + photo
        + b"\nendstream\nendobj\ntrailer << >>\n%%EOF\n"
    )
    items = Hasher().data(pdf, "report.pdf")
    assert [it.md5 for it in items[1:]] == [hash_bytes(photo, "p").md5]
    assert items[1].path.startswith("report.pdf!@") and items[1].pdq
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/media/image1.png", image_bytes(pictures[4], "PNG"))
    items = {it.path: it for it in Hasher().data(buf.getvalue(), "letter.docx")}
    assert items["letter.docx!word/media/image1.png"].pdq


def test_extension_mismatch(pictures):
    photo = small_jpeg(pictures[1])
    assert hash_bytes(photo, "a/notes.txt").flags == ["extension-mismatch"]
    assert hash_bytes(photo, "a/photo.JPG").flags == []
    assert hash_bytes(b"PK\x05\x06" + bytes(18), "x.jpg").flags == ["extension-mismatch"]
    assert hash_bytes(b"\x00\x01latin-1 text \xe9", "notes.txt").flags == []  # not a known type
    assert hash_bytes(b"plain", "README").flags == []

"""HEIC photos hash from the container's thumbnail when it has a usable one, in full otherwise."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from vigil.demo import picture
from vigil.media.images import DECODED, HEIF_THUMBNAIL, DecodeError, decode_luma, reduction_for
from vigil.signals.pdq import PdqSignal, pdq_from_luma

pillow_heif = pytest.importorskip("pillow_heif")

# the thumbnail's PDQ against the full decode's: a few bits (bench/hashing.py measures the spread);
# 16 is half the match threshold, so a copy the full decode matches at <= 15 bits still matches
FAST_PATH_BITS = 16


def heic(im: Image.Image, thumbnails: list[int], tile: int = 0, exif: bytes | None = None) -> bytes:
    """A HEIC as phones write them (grid tiles, a thumbnail item); x265's fastest preset keeps it quick."""
    buf = io.BytesIO()
    extra = {"exif": exif} if exif else {}
    pillow_heif.from_pillow(im.convert("RGB")).save(
        buf, quality=80, thumbnails=thumbnails, tile_size=tile, enc_params={"preset": "ultrafast"}, **extra
    )
    return buf.getvalue()


def pdq(data: bytes, thumbnail: bool = True):
    luma = decode_luma(data, "image/heic", thumbnail=thumbnail)
    return luma, pdq_from_luma(luma.pixels, luma.full_height, luma.full_width, luma.k)


@pytest.fixture(scope="module")
def phone_photo() -> bytes:
    # an iPhone photo is 4032x3024 in 512 px tiles with a 320x240 thumbnail; half the size encodes
    # 5x faster and exercises the same paths
    return heic(picture(7, (2016, 1512)), [320], tile=512)


@pytest.fixture(scope="module")
def single_image_photo() -> bytes:
    return heic(picture(6, (640, 480)), [320])


def test_thumbnail_is_hashed_instead_of_the_full_picture(phone_photo):
    fast_luma, fast = pdq(phone_photo)
    full_luma, full = pdq(phone_photo, thumbnail=False)
    assert fast_luma.source == HEIF_THUMBNAIL and fast_luma.pixels.shape == (240, 320)
    assert (fast_luma.full_width, fast_luma.full_height) == (2016, 1512)
    assert full_luma.source == DECODED and full_luma.k == reduction_for(2016, 1512)
    assert PdqSignal.distance(fast.value, full.value) <= FAST_PATH_BITS
    assert abs(fast.quality - full.quality) <= 10


@pytest.mark.parametrize("seed", range(3))
def test_thumbnail_hash_stays_close_for_other_pictures(seed):
    data = heic(picture(seed, (1024, 768)), [320])
    fast_luma, fast = pdq(data)
    _, full = pdq(data, thumbnail=False)
    assert fast_luma.source == HEIF_THUMBNAIL
    assert PdqSignal.distance(fast.value, full.value) <= FAST_PATH_BITS
    assert fast.quality >= PdqSignal.min_quality and abs(fast.quality - full.quality) <= 10


def test_rotated_photo_thumbnail_is_rotated_like_the_picture():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait: libheif writes irot on image and thumbnail
    data = heic(picture(4, (1024, 768)), [320], exif=exif.tobytes())
    fast_luma, fast = pdq(data)
    full_luma, full = pdq(data, thumbnail=False)
    assert fast_luma.source == HEIF_THUMBNAIL and fast_luma.pixels.shape == (320, 240)
    assert (full_luma.full_width, full_luma.full_height) == (768, 1024)
    assert PdqSignal.distance(fast.value, full.value) <= FAST_PATH_BITS


@pytest.mark.parametrize("thumbnails", [[], [128]], ids=["no thumbnail", "thumbnail too small"])
def test_photo_without_a_usable_thumbnail_decodes_in_full(thumbnails):
    data = heic(picture(5, (1024, 768)), thumbnails)
    luma, value = pdq(data)
    assert luma.source == DECODED and luma.k == reduction_for(1024, 768)
    assert value == pdq(data, thumbnail=False)[1]
    assert value.quality >= PdqSignal.min_quality


def test_small_photo_is_decoded_not_thumbnailed():
    data = heic(picture(5, (400, 300)), [256])  # a 256 px thumbnail of a 400 px picture saves little
    luma, _ = pdq(data)
    assert luma.source == DECODED and luma.pixels.shape == (300 // luma.k, 400 // luma.k)


def test_flat_photo_has_low_quality_through_the_thumbnail():
    data = heic(Image.new("RGB", (1024, 768), (90, 120, 150)), [320])
    luma, value = pdq(data)
    assert luma.source == HEIF_THUMBNAIL
    assert value.quality < PdqSignal.min_quality  # quality still says "this hash means nothing"


def test_heic_from_a_path_takes_the_fast_path(tmp_path, phone_photo):
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(phone_photo)
    assert decode_luma(path, "image/heic").source == HEIF_THUMBNAIL
    assert decode_luma(str(path), "image/heic").source == HEIF_THUMBNAIL


@pytest.mark.parametrize("thumbnail", [True, False])
@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 3],  # cut off inside the coded data: iloc points past the end
        lambda d: d[:40],  # the file type box and nothing else
        lambda d: d[:24] + b"\x00" * (len(d) - 24),  # a HEIC header over zeros
    ],
    ids=["truncated", "header only", "zeroed"],
)
def test_corrupt_heic_is_a_decode_error(single_image_photo, thumbnail, damage):
    # one coded image: of a grid image cut short, libheif decodes the tiles it has and leaves the
    # lost ones blank, with no error (as before this fast path)
    data = single_image_photo
    with pytest.raises(DecodeError, match=r"^cannot decode image/heic: \S") as caught:
        decode_luma(damage(data), "image/heic", thumbnail=thumbnail)
    assert "\n" not in str(caught.value)  # one line, as the CLI prints it

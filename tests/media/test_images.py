from __future__ import annotations

import pytest

from tests.conftest import image_bytes
from tests.media.test_sniff import FORMATS
from vigil.media.images import DecodeError, decode_luma
from vigil.signals.pdq import PdqSignal, pdq_from_luma


def pdq_of(data: bytes, mime: str):
    luma = decode_luma(data, mime)
    return pdq_from_luma(luma.pixels, luma.full_height, luma.full_width, luma.k)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_supported_format_hashes_to_the_same_picture(pictures, fmt):
    png = pdq_of(image_bytes(pictures[2], "PNG"), "image/png")
    other = pdq_of(image_bytes(pictures[2], fmt), FORMATS[fmt])
    assert other.quality >= 50
    # lossy formats (JPEG, WebP, GIF's 256 colours, HEIC) move a few bits, never a match's worth
    assert PdqSignal.distance(png.value, other.value) <= 20


def test_alpha_and_grey_and_16_bit_images_decode(pictures):
    for mode in ("RGBA", "LA", "L", "I;16", "1", "P"):
        im = pictures[3].convert(mode) if mode != "I;16" else pictures[3].convert("L").convert("I;16")
        result = pdq_of(image_bytes(im, "PNG" if mode != "1" else "BMP"), "image/png")
        assert len(result.value) == 32


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_truncated_image_is_a_decode_error(pictures, fmt):
    data = image_bytes(pictures[0], fmt)
    with pytest.raises(DecodeError, match="cannot decode"):
        decode_luma(data[: len(data) // 3], FORMATS[fmt])


def test_garbage_after_a_valid_header_is_a_decode_error():
    with pytest.raises(DecodeError, match="corrupt or unsupported"):
        decode_luma(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")

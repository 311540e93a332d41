"""Our PDQ against Meta's reference implementation (the pdqhash package)."""

from __future__ import annotations

import numpy as np
import pdqhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageOps

from tests.conftest import image_bytes
from vigil.media.images import decode_luma, reduction_for
from vigil.signals.pdq import DIHEDRAL_NAMES, PdqSignal, pdq_from_luma, scaled_axis_kernel


def reference(rgb: np.ndarray) -> tuple[bytes, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb, dtype=np.uint8))
    return int("".join(map(str, bits)), 2).to_bytes(32, "big"), quality


def reference_dihedral(rgb: np.ndarray) -> list[bytes]:
    hashes, _ = pdqhash.compute_dihedral(np.ascontiguousarray(rgb, dtype=np.uint8))
    return [int("".join(map(str, bits)), 2).to_bytes(32, "big") for bits in hashes]


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.uint8, st.tuples(st.integers(5, 300), st.integers(5, 300)), elements=st.integers(0, 255)),
)
def test_full_size_luma_matches_reference(luma):
    value, quality = reference(np.repeat(luma[:, :, None], 3, axis=2))
    ours = pdq_from_luma(luma)
    assert abs(ours.quality - quality) <= 1
    # Bits are compared where the hash means something: a flat image, or one smaller than the
    # 64x64 grid (whose cells then repeat pixels, so coefficients tie at the median), has bits that
    # are float rounding noise in any implementation.
    if quality >= PdqSignal.min_quality and min(luma.shape) >= 64:
        # noise puts many coefficients near the median, where float summation order can flip a bit
        assert PdqSignal.distance(ours.value, value) <= 10


def test_tiny_images_hash_to_zero_like_the_reference():
    ours = pdq_from_luma(np.full((4, 50), 128, np.uint8))
    assert ours.value == bytes(32) and ours.quality == 0


@pytest.mark.parametrize("seed", range(3))
def test_dihedral_variants_match_reference(pictures, seed):
    rgb = np.asarray(pictures[seed])
    luma = np.asarray(pictures[seed].convert("L"))
    ours = pdq_from_luma(luma, dihedral=True)
    assert len(ours.dihedral) == len(DIHEDRAL_NAMES) == 8
    assert ours.dihedral[0] == ours.value
    for name, mine, theirs in zip(DIHEDRAL_NAMES, ours.dihedral, reference_dihedral(rgb), strict=True):
        assert PdqSignal.distance(mine, theirs) <= 10, name


def test_dihedral_variant_finds_the_mirrored_image(pictures):
    original = pdq_from_luma(np.asarray(pictures[0].convert("L")), dihedral=True)
    mirrored = pdq_from_luma(np.asarray(ImageOps.mirror(pictures[0]).convert("L")))
    rotated = pdq_from_luma(np.asarray(pictures[0].rotate(90, expand=True).convert("L")))
    assert PdqSignal.distance(original.value, mirrored.value) > 31  # plain PDQ misses a mirror
    assert min(PdqSignal.distance(v, mirrored.value) for v in original.dihedral) <= 10
    assert min(PdqSignal.distance(v, rotated.value) for v in original.dihedral) <= 10


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024), (2000, 1500), (300, 200)])
def test_reduced_jpeg_decode_stays_close_to_full_size_reference(pictures, size):
    im = pictures[1].resize(size)
    data = image_bytes(im, "JPEG")
    luma = decode_luma(data, "image/jpeg")
    assert luma.k == reduction_for(*size)
    assert (luma.full_width, luma.full_height) == size
    ours = pdq_from_luma(luma.pixels, luma.full_height, luma.full_width, luma.k)
    theirs, quality = reference(np.asarray(Image.open(__import__("io").BytesIO(data)).convert("RGB")))
    assert PdqSignal.distance(ours.value, theirs) <= 16
    assert abs(ours.quality - quality) <= 10


def test_reduction_keeps_two_pixels_per_blur_window():
    assert reduction_for(200, 100) == 1
    assert reduction_for(512, 300) == 2
    assert reduction_for(1024, 768) == 4
    assert reduction_for(4000, 3000) == 8


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_reduced_decode_of_other_formats_stays_close_to_reference(pictures, fmt):
    im = pictures[2].resize((1600, 1200))
    data = image_bytes(im, fmt)
    luma = decode_luma(data, "image/" + fmt.lower())
    assert luma.k == 4 and luma.pixels.shape == (300, 400)
    ours = pdq_from_luma(luma.pixels, luma.full_height, luma.full_width, luma.k)
    theirs, _ = reference(np.asarray(Image.open(__import__("io").BytesIO(data)).convert("RGB")))
    assert PdqSignal.distance(ours.value, theirs) <= 10


@pytest.mark.parametrize("size", [(320, 240), (256, 192), (500, 375)])
def test_scaled_copy_is_read_with_the_full_size_kernel(pictures, size):
    # an embedded thumbnail: a filtered, scaled copy of the picture of no integer reduction
    im = pictures[1].resize((2000, 1500))
    theirs, _ = reference(np.asarray(im))
    thumb = np.asarray(im.resize(size, Image.BOX).convert("L"))
    ours = pdq_from_luma(thumb, 1500, 2000)
    assert PdqSignal.distance(ours.value, theirs) <= 8
    # hashed as a picture of its own (its own blur window and grid) it lands several bits further
    assert PdqSignal.distance(pdq_from_luma(thumb).value, theirs) > PdqSignal.distance(ours.value, theirs)


def test_scaled_kernel_rows_are_weighted_means():
    for full, n in [(4032, 320), (3024, 240), (1000, 999), (100, 7)]:
        rows = scaled_axis_kernel(full, n)
        assert rows.shape == (64, n) and (rows >= 0).all()
        assert np.allclose(rows.sum(axis=1), 1.0, atol=1e-5)

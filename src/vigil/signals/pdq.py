"""PDQ, Meta's 256-bit perceptual image hash, as a lean numpy pipeline.

Meta's reference (pdqhash / pdq/cpp) converts the full-size RGB image to float luma, blurs it with
two passes of a box filter along each axis (the "Jarosz" tent filter, window ceil(side/128)),
samples a 64x64 grid at cell centres, takes the 16x16 lowest non-DC DCT coefficients and sets each
bit where a coefficient exceeds the median.

Every step before the DCT is linear, so blur + sampling along one axis is a fixed 64 x side matrix
`R`, and the 64x64 buffer is `Ry @ Y @ Rx.T`: two small float32 matrix products instead of four
full-size passes. The matrices depend only on the image size and are cached.

It also means the image need not be decoded at full size. When the decoder hands us the image
reduced k times (JPEG's DCT-domain scaling, Pillow's `draft`), each reduced pixel is close to the
mean of a k x k block, and the full-size weights summed over each block give the matching reduced
kernel. The benchmark (bench/hashing.py) checks the result against the full-size reference.

A plane of any other size smaller than the image (a HEIF photo's embedded thumbnail, a scaled copy
of the picture) is read the same way: the full-size weights, each full-size pixel taken from the
plane by linear interpolation between its two nearest samples (centred, as a filtering scaler
places them). Hashed as a picture of its own (its own blur window and sample grid), a 320 px
thumbnail lands 10-13 bits on average from the full decode's hash; read with the full-size kernel,
0.3-1.5 for a filtered thumbnail and 8-10 for libheif's nearest-neighbour ones (bench/hashing.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vigil.signals.base import SignalType, register

SIDE = 64  # PDQ's downsample grid
MIN_HASHABLE_DIM = 5  # the reference returns an empty hash with quality 0 below this
DIHEDRAL_NAMES = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flip_x",
    "flip_y",
    "flip_plus1",
    "flip_minus1",
)


@register
class PdqSignal(SignalType):
    name = "pdq"
    width = 32
    hex_length = 64
    metric = "hamming"
    default_threshold = 31  # Meta's default match threshold
    max_threshold = 63  # the multi-index probes chunks within threshold // 16 <= 3 bits
    index = "mih"
    guess_by_length = False  # 64 hex digits are SHA-256 unless a header, option or name says PDQ
    vics_names = ("PDQ",)
    min_quality = 50  # Meta's tools ignore hashes of lower quality for matching
    # (generated test image seed, hash of Meta's reference pdqhash on it); see example_luma()
    examples = (
        (1, "753c40a3ff3c40a3ff3c00abff3c00a3aa03bf145523ff14552b007eaad13b7c"),
        (2, "aa93eadcab93eadcaa93aadcaa93aadc03831503aa9cff83aa95003b556a152b"),
    )

    @classmethod
    def example_hash(cls, example_input: object) -> str:
        return pdq_from_luma(example_luma(int(example_input))).hex


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A PDQ value with its quality (0-100) and, on request, the 8 dihedral variants."""

    value: bytes
    quality: int
    dihedral: tuple[bytes, ...] = ()

    @property
    def hex(self) -> str:
        return self.value.hex()


def _box_window(n: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of the reference box filter's window at each position (edges clipped)."""
    half = (w + 2) // 2
    j = np.arange(n)
    return np.clip(j - (w - half), 0, n - 1), np.clip(j + half - 1, 0, n - 1)


@lru_cache(maxsize=256)
def axis_kernel(full: int, k: int = 1) -> np.ndarray:
    """64 x ceil(full/k) float32 weights: two box passes and centre sampling along one axis.

    `full` is the side of the original image, `k` the factor by which the decoded image is reduced.
    Built in O(64 * full) with prefix sums, since real evidence has as many image sizes as images.
    """
    w = (full + 2 * SIDE - 1) // (2 * SIDE)
    sample = ((np.arange(SIDE) + 0.5) * full / SIDE).astype(np.int64)
    lo, hi = _box_window(full, w)
    count = (hi - lo + 1).astype(np.float64)
    # Output j of the second pass gathers every m whose window holds j: m in [first_m, last_m].
    # The first pass at sampled row s weighs m by 1/count[s] over [lo[s], hi[s]], so the sum of
    # first(s, m) / count[m] over a range of m is a difference of one prefix sum of 1/count.
    # Only a band of < 2w outputs around each sample is non-zero; work on that band alone.
    j = np.arange(full)
    first_m = np.searchsorted(hi, j, side="left")
    last_m = np.searchsorted(lo, j, side="right") - 1
    prefix = np.concatenate(([0.0], np.cumsum(1.0 / count)))
    start, stop = lo[sample][:, None], hi[sample][:, None] + 1
    band_lo, band_hi = lo[lo[sample]], hi[hi[sample]]
    cols = band_lo[:, None] + np.arange(int((band_hi - band_lo).max()) + 1)[None, :]
    inside = cols <= band_hi[:, None]
    cols = np.minimum(cols, full - 1)
    upper = prefix[np.clip(last_m[cols] + 1, start, stop)]
    lower = prefix[np.clip(first_m[cols], start, stop)]
    values = (upper - lower) * inside / count[sample][:, None]
    weights = np.zeros((SIDE, -(-full // k)))
    np.add.at(weights, (np.arange(SIDE)[:, None], cols // k), values)
    return np.ascontiguousarray(weights, dtype=np.float32)


@lru_cache(maxsize=256)
def scaled_axis_kernel(full: int, n: int) -> np.ndarray:
    """64 x n float32 weights for a plane of n samples that is a scaled copy of `full` pixels.

    The full-size kernel (`axis_kernel(full)`) with each full-size pixel m read from the plane at
    (m + 0.5) * n / full - 0.5 by linear interpolation (clamped at the edges), so every row still sums
    to 1 and the blur and sample positions are those of the full-size image.
    """
    weights = axis_kernel(full)
    row, m = np.nonzero(weights)  # a band around each sample: fold only the non-zero weights
    value = weights[row, m].astype(np.float64)
    position = (m + 0.5) * (n / full) - 0.5
    left = np.floor(position).astype(np.int64)
    right_share = position - left
    cells = np.concatenate((row * n + np.clip(left, 0, n - 1), row * n + np.clip(left + 1, 0, n - 1)))
    shares = np.concatenate((value * (1.0 - right_share), value * right_share))
    folded = np.bincount(cells, shares, minlength=SIDE * n).reshape(SIDE, n)
    return np.ascontiguousarray(folded, dtype=np.float32)


_DCT = np.array(
    [
        [math.sqrt(2.0 / 64) * math.cos(math.pi / 2 / 64 * (i + 1) * (2 * j + 1)) for j in range(64)]
        for i in range(16)
    ],
    dtype=np.float32,
)
_PARITY_ROW = np.where(np.arange(16) % 2 == 1, 1.0, -1.0).astype(np.float32)[:, None]
_PARITY_COL = _PARITY_ROW.T
_CHECKER = np.where((np.add.outer(np.arange(16), np.arange(16)) % 2) == 1, -1.0, 1.0).astype(np.float32)


def quality_metric(buffer64: np.ndarray) -> int:
    """The reference's gradient-count quality: sum of |truncated 0-100 scaled differences| / 90."""
    vertical = np.trunc((buffer64[:-1] - buffer64[1:]) * np.float32(100 / 255))
    horizontal = np.trunc((buffer64[:, :-1] - buffer64[:, 1:]) * np.float32(100 / 255))
    total = int(np.abs(vertical).sum()) + int(np.abs(horizontal).sum())
    return min(100, total // 90)


def bits_from_dct(dct16: np.ndarray) -> bytes:
    """Bit k = coefficient k (row-major) above the median; hex is most significant bit first."""
    flat = dct16.ravel()
    median = np.partition(flat, 127)[127]  # Torben's median of 256 values: the 128th smallest
    return np.packbits((flat > median)[::-1]).tobytes()


def dihedral_dcts(dct16: np.ndarray) -> tuple[np.ndarray, ...]:
    """The DCT of the 8 rotations/flips, by sign changes and transposes (no re-hashing)."""
    return (
        dct16,
        (dct16 * _PARITY_COL).T,
        dct16 * _CHECKER,
        (dct16 * _PARITY_ROW).T,
        dct16 * _PARITY_ROW,
        dct16 * _PARITY_COL,
        dct16.T,
        (dct16 * _CHECKER).T,
    )


def pdq_from_luma(
    luma: np.ndarray,
    full_height: int | None = None,
    full_width: int | None = None,
    k: int = 1,
    dihedral: bool = False,
) -> PdqHash:
    """PDQ of a luma image (uint8 or float32), possibly decoded `k` times smaller than full size.

    A plane smaller than `full_height` x `full_width` that is not a k-times reduction (an embedded
    thumbnail) is hashed as a scaled copy of the full-size image (`scaled_axis_kernel`).
    """
    height, width = luma.shape
    full_height = full_height or height
    full_width = full_width or width
    if full_height < MIN_HASHABLE_DIM or full_width < MIN_HASHABLE_DIM:
        empty = bytes(32)
        return PdqHash(empty, 0, (empty,) * 8 if dihedral else ())
    if -(-full_height // k) == height and -(-full_width // k) == width:
        rows, cols = axis_kernel(full_height, k), axis_kernel(full_width, k)
    elif height < full_height and width < full_width:  # a scaled copy: thumbnail, other reduction
        rows, cols = scaled_axis_kernel(full_height, height), scaled_axis_kernel(full_width, width)
    else:  # neither: the plane is all there is, hash it as the image
        rows, cols = axis_kernel(height), axis_kernel(width)
    buffer64 = (rows @ luma.astype(np.float32, copy=False)) @ cols.T
    quality = quality_metric(buffer64)
    dct16 = _DCT @ buffer64 @ _DCT.T
    value = bits_from_dct(dct16)
    variants = tuple(bits_from_dct(d) for d in dihedral_dcts(dct16)) if dihedral else ()
    return PdqHash(value, quality, variants)


def example_luma(seed: int, height: int = 300, width: int = 400) -> np.ndarray:
    """A deterministic, textured, non-symmetric test image (no randomness library involved)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = (
        128
        + 60 * np.sin(x / (17.0 + seed) + y / 31.0)
        + 40 * np.cos(y / (9.0 + 2 * seed)) * np.sin(x / 53.0)
        + 20 * ((x // (40 + 5 * seed) + y // 37) % 2)
    )
    return np.clip(img, 0, 255).astype(np.uint8)

"""Decoding images for hashing: only as much as PDQ needs, into 8-bit luma.

PDQ reduces every image to 64x64. A JPEG can be decoded 2, 4 or 8 times smaller straight from its
DCT coefficients (libjpeg's scaled IDCT, Pillow's `draft`), and only its luma channel, which skips
most of the decode and every full-size colour conversion. We reduce by the largest power of two that
keeps at least two decoded pixels per PDQ blur window, which the benchmark shows keeps the hash
within a few bits of a full-size decode. Other formats decode in full, go to 8-bit luma once and are
reduced by block means (Pillow's `reduce`) by the same factor, so no full-size float copy is made.

HEIC/HEIF (phone photos) has no reduced decode: HEVC decodes whole, 0.4-1.2 s for 12 megapixels on
one core. But the container usually holds a thumbnail (iPhones write 320x240), which decodes in
~10 ms. When one has at least MIN_THUMBNAIL_SIDE pixels on the long side (two per PDQ blur window,
the budget the JPEG reduction keeps) and pillow_heif vouches that it is a scaled copy of the picture
(same aspect ratio, rotation, mirroring, crop and colour profile: its `draft`), the thumbnail is the
luma and `Luma.source` says so; PDQ reads it with the full-size kernel (signals.pdq), which keeps it
within a few bits of the full decode's hash for a filtered thumbnail as cameras make them, ~10 for
libheif's nearest-neighbour ones (bench/hashing.py, HEIC tables). A thumbnail is what the
file says the picture looks like, not the picture: a file made to deceive can carry another one, so
a caller that must be sure (a near match, a disputed item) asks for `thumbnail=False`.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from vigil.errors import VigilError

# Pillow's decompression-bomb limit and truncated-image rule are process-wide: the entry points set
# them from the settings (vigil.settings.prepare_process), not this module on import.

_heif_registered = False

DECODED = "decoded"  # Luma.source: the image's own pixels (possibly k-times reduced)
HEIF_THUMBNAIL = "heif-thumbnail"  # Luma.source: the HEIF container's thumbnail of the image
MIN_THUMBNAIL_SIDE = 256  # long side of a usable thumbnail: 2 pixels per PDQ blur window (side/128)


class DecodeError(VigilError):
    """The bytes claim to be an image but cannot be decoded."""


@dataclass(frozen=True, slots=True)
class Luma:
    """An 8-bit luma plane, possibly `k` times smaller than the image's full size.

    With source HEIF_THUMBNAIL the plane is the container's thumbnail, a scaled copy of any size
    (k is 1); `pdq_from_luma(pixels, full_height, full_width, k)` reads either correctly.
    """

    pixels: np.ndarray
    full_height: int
    full_width: int
    k: int
    source: str = DECODED


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def reduction_for(width: int, height: int) -> int:
    """Largest of 1, 2, 4, 8 that leaves >= 2 decoded pixels per PDQ blur window on the long side."""
    window = (max(width, height) + 127) // 128
    k = 1
    while k < 8 and 2 * k * 2 <= window:
        k *= 2
    return k


def _heif_thumbnail(im: Image.Image, width: int, height: int) -> bool:
    """Switch `im` to its HEIF thumbnail if one is large enough and a scaled copy; False if none.

    pillow_heif >= 1.8 picks, in `draft`, the smallest thumbnail not smaller than the size asked
    that is a scaled copy of the image; older versions have no such `draft` and decode in full.
    """
    if max(width, height) < 2 * MIN_THUMBNAIL_SIDE:  # small: decoding it whole is cheap and exact
        return False
    scale = MIN_THUMBNAIL_SIDE / max(width, height)
    wanted = (max(1, int(width * scale)), max(1, int(height * scale)))  # round down: 320x240 fits 256
    return im.draft(None, wanted) is not None and im.size != (width, height)


def _to_luma(im: Image.Image) -> np.ndarray:
    if im.mode == "L":
        return np.asarray(im)
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):  # 16-bit scans: scale to 8 bits
        wide = np.asarray(im.convert("F"), dtype=np.float32)
        return np.clip(wide / 257.0 if wide.max() > 255 else wide, 0, 255).astype(np.uint8)
    if im.mode not in ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LA", "P", "PA", "1"):
        im = im.convert("RGB")
    return np.asarray(im.convert("L"))  # ITU-R 601 luma, the weights PDQ uses


def decode_luma(source: bytes | str | os.PathLike, mime: str = "", thumbnail: bool = True) -> Luma:
    """Decode an image (bytes or path) to luma for PDQ; DecodeError if it cannot be read.

    `thumbnail=False` decodes a HEIF photo's own pixels even where its container has a thumbnail.
    """
    if mime in ("image/heic", "image/avif"):
        _register_heif()
    fp = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(fp) as im:
                width, height = im.size
                k, kind = 1, DECODED
                if im.format == "HEIF":  # stays on the primary image, which its thumbnail shows
                    if thumbnail and _heif_thumbnail(im, width, height):
                        kind = HEIF_THUMBNAIL
                else:
                    if im.format == "JPEG":
                        k = reduction_for(width, height)
                        if k > 1 and im.draft("L", (max(1, width // k), max(1, height // k))) is not None:
                            k = round(width / im.size[0])
                        else:
                            k = 1
                    im.seek(0)  # first frame of an animation
                pixels = _to_luma(im)
                if kind == DECODED and im.format != "JPEG" and (k := reduction_for(width, height)) > 1:
                    # block means in C on 8-bit luma: the float pipeline never sees the full size
                    pixels = np.asarray(Image.fromarray(pixels).reduce(k))
    except UnidentifiedImageError:
        raise DecodeError(f"cannot decode {mime or 'image'}: corrupt or unsupported image data") from None
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"cannot decode {mime or 'image'}: {str(exc).strip()}") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, RuntimeError) as exc:
        raise DecodeError(f"cannot decode {mime or 'image'}: {str(exc).strip()}") from None
    if pixels.ndim != 2:
        raise DecodeError(f"cannot decode {mime or 'image'}: unexpected pixel layout {pixels.shape}")
    return Luma(pixels, height, width, k, kind)

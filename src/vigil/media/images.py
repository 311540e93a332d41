"""Decoding images for hashing: only as much as PDQ needs, into 8-bit luma.

PDQ reduces every image to 64x64. A JPEG can be decoded 2, 4 or 8 times smaller straight from its
DCT coefficients (libjpeg's scaled IDCT, Pillow's `draft`), and only its luma channel, which skips
most of the decode and every full-size colour conversion. We reduce by the largest power of two that
keeps at least two decoded pixels per PDQ blur window, which the benchmark shows keeps the hash
within a few bits of a full-size decode. Other formats decode in full, go to 8-bit luma once and are
reduced by block means (Pillow's `reduce`) by the same factor, so no full-size float copy is made.
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


class DecodeError(VigilError):
    """The bytes claim to be an image but cannot be decoded."""


@dataclass(frozen=True, slots=True)
class Luma:
    """An 8-bit luma plane, possibly `k` times smaller than the image's full size."""

    pixels: np.ndarray
    full_height: int
    full_width: int
    k: int


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


def _to_luma(im: Image.Image) -> np.ndarray:
    if im.mode == "L":
        return np.asarray(im)
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):  # 16-bit scans: scale to 8 bits
        wide = np.asarray(im.convert("F"), dtype=np.float32)
        return np.clip(wide / 257.0 if wide.max() > 255 else wide, 0, 255).astype(np.uint8)
    if im.mode not in ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LA", "P", "PA", "1"):
        im = im.convert("RGB")
    return np.asarray(im.convert("L"))  # ITU-R 601 luma, the weights PDQ uses


def decode_luma(source: bytes | str | os.PathLike, mime: str = "") -> Luma:
    """Decode an image (bytes or path) to luma for PDQ; DecodeError if it cannot be read."""
    if mime in ("image/heic", "image/avif"):
        _register_heif()
    fp = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(fp) as im:
                width, height = im.size
                k = 1
                if im.format == "JPEG":
                    k = reduction_for(width, height)
                    if k > 1 and im.draft("L", (max(1, width // k), max(1, height // k))) is not None:
                        k = round(width / im.size[0])
                    else:
                        k = 1
                im.seek(0)  # first frame of an animation
                pixels = _to_luma(im)
                if im.format != "JPEG" and (k := reduction_for(width, height)) > 1:
                    # block means in C on 8-bit luma: the float pipeline never sees the full size
                    pixels = np.asarray(Image.fromarray(pixels).reduce(k))
    except UnidentifiedImageError:
        raise DecodeError(f"cannot decode {mime or 'image'}: corrupt or unsupported image data") from None
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"cannot decode {mime or 'image'}: {exc}") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as exc:
        raise DecodeError(f"cannot decode {mime or 'image'}: {exc}") from None
    if pixels.ndim != 2:
        raise DecodeError(f"cannot decode {mime or 'image'}: unexpected pixel layout {pixels.shape}")
    return Luma(pixels, height, width, k)

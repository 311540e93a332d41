"""HEIC test files for the benchmark, written the way a phone writes them.

An iPhone photo is a 4032x3024 HEVC image in 512x512 grid tiles with a 320x240 HEVC thumbnail. libheif
(through pillow_heif) writes the tiles and the thumbnail item, but makes the thumbnail by nearest-
neighbour subsampling, which aliases; a camera scales with a filter. `with_filtered_thumbnail` swaps
in a filtered one: it encodes the Lanczos-scaled picture as its own HEIC, appends that coded image to
the file in a second `mdat` box and points the thumbnail item's `iloc` extent at it (two encodes of the
same size and settings share their HEVC parameter sets; the result is checked by decoding it).
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pillow_heif
from PIL import Image


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, box end) of the ISOBMFF boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        yield kind.decode("latin-1"), pos + head, pos + size
        pos += size


def _meta(data: bytes) -> dict[str, tuple[int, int]]:
    meta = next((s, e) for k, s, e in _boxes(data, 0, len(data)) if k == "meta")
    return {k: (s, e) for k, s, e in _boxes(data, meta[0] + 4, meta[1])}  # meta is a full box


def _uint(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos : pos + size], "big") if size else 0


def _iloc(data: bytes, start: int) -> dict[int, tuple[int, int, int, int, int]]:
    """item id -> (position of its one extent's offset field, offset size, length size, file offset,
    length) for the items stored in one extent."""
    version = data[start]
    sizes = data[start + 4 : start + 6]
    offset_size, length_size, base_size = sizes[0] >> 4, sizes[0] & 15, sizes[1] >> 4
    index_size = sizes[1] & 15 if version in (1, 2) else 0
    pos = start + 6
    count_size = 4 if version == 2 else 2
    count = _uint(data, pos, count_size)
    pos += count_size
    items = {}
    for _ in range(count):
        item = _uint(data, pos, count_size)
        pos += count_size
        in_file = True
        if version in (1, 2):
            in_file = data[pos + 1] & 15 == 0  # construction method 0: offsets into the file
            pos += 2
        pos += 2  # data reference index
        base = _uint(data, pos, base_size)
        pos += base_size
        extents = _uint(data, pos, 2)
        pos += 2
        first = None
        for _ in range(extents):
            pos += index_size
            if first is None:
                offset = base + _uint(data, pos, offset_size)
                first = (pos, offset_size, length_size, offset, _uint(data, pos + offset_size, length_size))
            pos += offset_size + length_size
        if extents == 1 and in_file:
            items[item] = first
    return items


def _thumbnail_item(data: bytes, iref: tuple[int, int]) -> int:
    version = data[iref[0]]
    id_size = 2 if version == 0 else 4
    for kind, start, _end in _boxes(data, iref[0] + 4, iref[1]):
        if kind == "thmb":
            return _uint(data, start, id_size)
    raise ValueError("no thumbnail reference")


def _primary_item(data: bytes, pitm: tuple[int, int]) -> int:
    return _uint(data, pitm[0] + 4, 2 if data[pitm[0]] == 0 else 4)


def _encode(im: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    pillow_heif.from_pillow(im).save(buf, **kwargs)
    return buf.getvalue()


def heic(
    im: Image.Image, thumbnail: int | None = 320, quality: int = 80, tile: int = 0, preset: str = "ultrafast"
) -> bytes:
    """`im` as HEIC (x265 at `preset`) in `tile` grid tiles (0: one image), with libheif's thumbnail
    of long side `thumbnail` (nearest-neighbour scaled; None: no thumbnail)."""
    params = {"quality": quality, "enc_params": {"preset": preset}}
    return _encode(im.convert("RGB"), thumbnails=[thumbnail] if thumbnail else [], tile_size=tile, **params)


def with_filtered_thumbnail(
    data: bytes, im: Image.Image, quality: int = 80, preset: str = "ultrafast"
) -> bytes:
    """`data` (a HEIC of `im` with one thumbnail) with that thumbnail replaced by a Lanczos-scaled one
    of the same size, as a camera makes it; `data` itself if it has none (picture <= 320 px)."""
    if not pillow_heif.open_heif(data)[0].info["thumbnails"]:
        return data
    size = pillow_heif.open_heif(data)[0].get_thumbnail(0).size
    params = {"quality": quality, "enc_params": {"preset": preset}}
    small = _encode(im.convert("RGB").resize(size, Image.LANCZOS), tile_size=0, **params)
    meta, small_meta = _meta(data), _meta(small)
    thumb = _thumbnail_item(data, meta["iref"])
    field, offset_size, length_size, old, _ = _iloc(data, meta["iloc"][0])[thumb]
    base = old - _uint(data, field, offset_size)
    *_, offset, length = _iloc(small, small_meta["iloc"][0])[_primary_item(small, small_meta["pitm"])]
    out = bytearray(data + struct.pack(">I4s", 8 + length, b"mdat") + small[offset : offset + length])
    out[field : field + offset_size] = (len(data) + 8 - base).to_bytes(offset_size, "big")
    out[field + offset_size : field + offset_size + length_size] = length.to_bytes(length_size, "big")
    out = bytes(out)
    got = np.asarray(pillow_heif.open_heif(out)[0].get_thumbnail(0).to_pillow())
    want = np.asarray(pillow_heif.open_heif(small)[0].to_pillow())
    if got.shape != want.shape or not np.array_equal(got, want):
        raise ValueError("the filtered thumbnail did not survive the swap (different HEVC parameter sets?)")
    return out

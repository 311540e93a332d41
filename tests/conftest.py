"""Shared fixtures: generated, benign images (geometry and gradients only) and a fresh database."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from vigil.demo import encode, jpeg, picture
from vigil.store import open_database


@pytest.fixture(scope="session")
def pictures() -> list[Image.Image]:
    return [picture(seed, (640, 480)) for seed in range(6)]


@pytest.fixture
def db(tmp_path: Path):
    return open_database(str(tmp_path / "vigil.db"))


def image_bytes(im: Image.Image, fmt: str) -> bytes:
    if fmt == "JPEG":
        return jpeg(im)
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    if fmt == "GIF":
        im = im.convert("P")
    return encode(im, fmt)


def reopen(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))

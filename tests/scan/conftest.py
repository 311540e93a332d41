"""Fixtures and helpers of the scan tests: an evidence folder with known, altered, misnamed,
archived and broken files, and the CLI called in-process."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile

import pytest
from PIL import ImageDraw, ImageOps

from tests.conftest import image_bytes
from vigil.cli.main import run


def digests(data: bytes) -> dict:
    return {
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@pytest.fixture
def evidence(tmp_path, pictures):
    known = [image_bytes(p, "JPEG") for p in pictures[:3]]
    ev = tmp_path / "evidence"
    (ev / "sub").mkdir(parents=True)
    files = {
        "a_exact.jpg": known[0],
        "sub/misnamed.txt": known[1],
        "b_mirror.png": image_bytes(ImageOps.mirror(pictures[2]), "PNG"),
        "c_unknown.jpg": image_bytes(pictures[4], "JPEG"),
        "c_unknown_copy.jpg": image_bytes(pictures[4], "JPEG"),
        "d_truncated.jpg": known[2][:2000],
        "e_notes.txt": b"nothing to see\n",
    }
    marked = pictures[5].copy()
    ImageDraw.Draw(marked).text((10, 10), "watermark", fill=(255, 255, 255))
    files["c_unknown_marked.webp"] = image_bytes(marked, "WEBP")
    files["f_near_of_unknown.jpg"] = image_bytes(pictures[5].resize((320, 240)), "JPEG")
    for name, data in files.items():
        (ev / name).write_bytes(data)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("inner/known.jpg", known[0])
        z.writestr("inner/readme.txt", "hello")
    (ev / "g_archive.zip").write_bytes(zbuf.getvalue())
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w:gz") as t:
        info = tarfile.TarInfo("x/y.jpg")
        info.size = len(known[1])
        t.addfile(info, io.BytesIO(known[1]))
    (ev / "h_backup.tar.gz").write_bytes(tbuf.getvalue())
    files["g_archive.zip"], files["h_backup.tar.gz"] = zbuf.getvalue(), tbuf.getvalue()
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "md5.txt").write_text(digests(known[0])["md5"] + "\n" + digests(known[1])["md5"] + "\n")
    return ev, lists, files, known


def import_hotline(tmp_path, lists) -> str:
    """A fresh database with the evidence fixture's MD5 list imported as `hotline`; its path."""
    db = str(tmp_path / "v.db")
    assert (
        cli(
            "hashset", "import", str(lists / "md5.txt"), "--name", "hotline", "--category", "csam", "--db", db
        )
        == 0
    )
    return db


def cli(*args) -> int:
    try:
        run(list(args))
    except SystemExit as exit_:
        return exit_.code
    return 0

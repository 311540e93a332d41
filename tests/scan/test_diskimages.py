"""Raw disk images: FAT, ext4 and NTFS partitions behind an MBR, and a bare file system; files by
partition and path, deleted files the file system still lists, known material inside."""

from __future__ import annotations

import json

import pytest

from tests.conftest import image_bytes
from tests.diskimages import ext4, fat, mbr_disk, ntfs
from tests.scan.conftest import cli, digests
from vigil.media.diskimage import DiskImageError, list_files, looks_like_disk_image


@pytest.fixture
def photos(pictures):
    return [image_bytes(p, "JPEG") for p in pictures[:4]]


@pytest.fixture
def usb(tmp_path, photos):
    """A USB stick image: FAT (a camera card, one photo deleted), ext4 (a Linux home, one file
    deleted), NTFS (a Windows drive)."""
    parts = tmp_path / "parts"
    parts.mkdir()
    p1 = fat(
        parts / "fat.img",
        {"DCIM/IMG_1.jpg": photos[0], "DCIM/IMG_2.jpg": photos[1], "notes.txt": b"shopping list\n"},
        deleted=("DCIM/IMG_2.jpg",),
    )
    p2 = ext4(
        parts / "ext.img", {"home/u/pic.jpg": photos[2], "home/u/old.txt": b"x" * 3000}, ("home/u/old.txt",)
    )
    p3 = ntfs(parts / "ntfs.img", {"scan.jpg": photos[3]})
    ev = tmp_path / "evidence"
    ev.mkdir()
    mbr_disk(ev / "usb.dd", [(p1, 0x0C), (p2, 0x83), (p3, 0x07)])
    fat(ev / "card.img", {"a.txt": b"bare file system, no partition table"})
    return ev


def test_lists_every_file_system_with_deleted_files(usb):
    files = {f.path: f for f in list_files(str(usb / "usb.dd"))}
    assert {"p1/DCIM/IMG_1.jpg", "p1/notes.txt", "p2/home/u/pic.jpg", "p3/scan.jpg"} <= set(files)
    deleted = {p for p, f in files.items() if f.deleted}
    # FAT overwrites a deleted name's first letter: TSK shows it as "_"
    assert deleted == {"p1/DCIM/_MG_2.jpg", "p2/home/u/old.txt"}
    assert [f.path for f in list_files(str(usb / "card.img"))] == ["fs/a.txt"]


def test_not_an_image(tmp_path):
    junk = tmp_path / "junk.dd"
    junk.write_bytes(bytes(446) + b"\x00" * 16 * 4 + b"\x55\xaa" + bytes(100_000))
    assert not looks_like_disk_image(junk.read_bytes()[:2048])  # an MBR with no partitions
    with pytest.raises(DiskImageError):
        list_files(str(junk))


def test_scan_reads_files_in_disk_images(tmp_path, usb, photos):
    lists = tmp_path / "known.txt"
    lists.write_text("\n".join(digests(p)["md5"] for p in photos) + "\n")
    db = str(tmp_path / "v.db")
    assert cli("hashset", "import", str(lists), "--name", "hotline", "--category", "csam", "--db", db) == 0
    out = tmp_path / "case.json"
    assert cli("scan", str(usb), "--case", "usb", "--json", str(out), "--db", db, "--workers", "2") == 0
    report = json.loads(out.read_text())
    items = {it["path"]: it for it in report["items"]}
    hits = {p for p, it in items.items() if it["matches"]}
    assert hits == {
        "usb.dd!p1/DCIM/IMG_1.jpg",
        "usb.dd!p1/DCIM/_MG_2.jpg",  # deleted, still on the card
        "usb.dd!p2/home/u/pic.jpg",
        "usb.dd!p3/scan.jpg",
    }
    assert items["usb.dd!p1/DCIM/_MG_2.jpg"]["flags"] == ["deleted"]
    assert items["usb.dd!p1/DCIM/_MG_2.jpg"]["md5"] == digests(photos[1])["md5"]
    assert items["usb.dd!p1/notes.txt"]["type"] == "text/plain"
    assert items["usb.dd"]["type"] == "application/x-disk-image"
    assert items["usb.dd"]["md5"] == digests((usb / "usb.dd").read_bytes())["md5"]
    assert items["card.img!fs/a.txt"]["size"] == len(b"bare file system, no partition table")
    assert report["summary"]["deleted"] == 2

"""Building small disk images for tests with Debian's own tools (mkfs.vfat + mtools, mkfs.ext4 -d,
mkntfs + ntfscp) and an MBR written here: nothing downloaded, nothing mounted."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

MIB = 1 << 20


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    if missing:
        pytest.skip(
            f"needs {', '.join(missing)} (Debian: dosfstools mtools e2fsprogs ntfs-3g; .ci/run installs them)"
        )


def _run(*args: str) -> None:
    exe = shutil.which(args[0]) or str(Path("/usr/sbin", args[0]))
    subprocess.run([exe, *args[1:]], check=True, capture_output=True)


def fat(path: Path, files: dict[str, bytes], deleted: tuple[str, ...] = (), size_mib: int = 8) -> Path:
    need("mkfs.vfat", "mcopy", "mmd", "mdel")
    _run("mkfs.vfat", "-C", str(path), str(size_mib * 1024))
    staging = path.with_suffix(".files")
    made: set[str] = set()
    for name, data in files.items():
        parts = name.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder not in made:
                _run("mmd", "-i", str(path), f"::/{folder}")
                made.add(folder)
        src = staging / name
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(data)
        _run("mcopy", "-i", str(path), str(src), f"::/{name}")
    for name in deleted:
        _run("mdel", "-i", str(path), f"::/{name}")
    shutil.rmtree(staging, ignore_errors=True)
    return path


def ext4(path: Path, files: dict[str, bytes], deleted: tuple[str, ...] = (), size_mib: int = 8) -> Path:
    need("mkfs.ext4", "debugfs")
    staging = path.with_suffix(".files")
    for name, data in files.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_bytes(data)
    _run("mkfs.ext4", "-q", "-F", "-d", str(staging), str(path), f"{size_mib}M")
    for name in deleted:
        _run("debugfs", "-w", "-R", f"rm /{name}", str(path))
    shutil.rmtree(staging, ignore_errors=True)
    return path


def ntfs(path: Path, files: dict[str, bytes], size_mib: int = 8) -> Path:
    """NTFS files go in the root folder (ntfscp writes into existing folders only)."""
    need("mkntfs", "ntfscp")
    with open(path, "wb") as fh:
        fh.truncate(size_mib * MIB)
    _run("mkntfs", "-F", "-q", "-Q", str(path))
    staging = path.with_suffix(".files")
    staging.mkdir(exist_ok=True)
    for name, data in files.items():
        (staging / name).write_bytes(data)
        _run("ntfscp", "-f", str(path), str(staging / name), f"/{name}")
    shutil.rmtree(staging, ignore_errors=True)
    return path


def mbr_disk(path: Path, partitions: list[tuple[Path, int]]) -> Path:
    """A disk image with an MBR and the given file-system images as partitions (type byte each),
    the first at 1 MiB, each aligned to 1 MiB."""
    entries, at, body = b"", MIB, []
    for image, kind in partitions:
        data = image.read_bytes()
        sectors = -(-len(data) // MIB) * MIB // 512
        entries += bytes([0, 0, 0, 0, kind, 0, 0, 0]) + (at // 512).to_bytes(4, "little")
        entries += sectors.to_bytes(4, "little")
        body.append((at, data))
        at += sectors * 512
    with open(path, "wb") as fh:
        fh.truncate(at)
        fh.write(bytes(446) + entries.ljust(64, b"\x00") + b"\x55\xaa")
        for offset, data in body:
            fh.seek(offset)
            fh.write(data)
    return path

"""Evidence files under a folder, in a stable order, with `/`-separated paths relative to it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from vigil.errors import VigilError


def evidence_files(root: Path) -> Iterator[tuple[str, str]]:
    """(filesystem path, logical path) of every regular file; symlinks are not followed."""
    if not root.exists():
        raise VigilError(f"{root}: no such file or folder")
    if root.is_file():
        yield str(root), root.name
        return
    yield from _scan(str(root), "")


def _scan(folder: str, prefix: str) -> Iterator[tuple[str, str]]:
    """os.scandir, depth first in name order: the directory entries' own types, no stat per file."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _scan(entry.path, f"{prefix}{entry.name}/")
            elif entry.is_file(follow_symlinks=False):
                yield entry.path, prefix + entry.name
        except OSError:
            continue

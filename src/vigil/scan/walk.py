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
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(folder, name)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            yield full, Path(os.path.relpath(full, root)).as_posix()

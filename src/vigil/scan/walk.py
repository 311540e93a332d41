"""Evidence files under a folder, in a stable order, with `/`-separated paths relative to it.

Nothing under the folder disappears in silence: every entry that is not a regular file or a folder
— a symbolic link (never followed: a link can point out of the evidence, or loop), a named pipe, a
socket, a device file — and every folder that cannot be listed is reported as *skipped*, with the
reason, to the `skipped` list the caller passes.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from vigil.errors import VigilError
from vigil.scan.locations import component, segment

Skipped = list[tuple[str, str]]  # (logical path, reason)


def evidence_files(root: Path, skipped: Skipped | None = None) -> Iterator[tuple[str, str]]:
    """(filesystem path, logical path) of every regular file; symlinks are not followed."""
    note = skipped.append if skipped is not None else (lambda _entry: None)
    if not root.exists() and not root.is_symlink():
        raise VigilError(f"{root}: no such file or folder")
    if root.is_file():
        yield str(root), segment(root.name)
        return
    if not root.is_dir():
        note((segment(root.name), describe(str(root))))
        return
    yield from _scan(str(root), "", note)


def _scan(folder: str, prefix: str, note) -> Iterator[tuple[str, str]]:
    """os.scandir, depth first in name order: the directory entries' own types, no stat per file."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        note((prefix.rstrip("/") or ".", f"folder cannot be listed: {exc.strerror or exc}"))
        return
    for entry in entries:
        logical = prefix + segment(entry.name)
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _scan(entry.path, f"{logical}/", note)
            elif entry.is_file(follow_symlinks=False):
                yield entry.path, logical
            else:
                note((logical, describe(entry.path)))
        except OSError as exc:
            note((logical, f"cannot be examined: {exc.strerror or exc}"))


def describe(fs_path: str) -> str:
    """Why an entry that is neither a regular file nor a folder is not read (one stat, only for those)."""
    mode = os.lstat(fs_path).st_mode
    if stat.S_ISLNK(mode):
        target = component(os.readlink(fs_path))
        try:
            os.stat(fs_path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"symbolic link loop (to {target}): not followed"
            if exc.errno == errno.ENOENT:
                return f"dangling symbolic link (to {target}): not followed"
            return f"symbolic link (to {target}): not followed ({exc.strerror})"
        return f"symbolic link (to {target}): not followed"
    kinds = (
        (stat.S_ISFIFO, "named pipe (FIFO)"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device (image it, then scan the image)"),
    )
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"{kind}: not read"

"""`vigil hashset add-files`: a unit's own assessed images and videos turned into a hash set.

Every image and video under the given paths (archives and disk images included) gives its MD5,
SHA-1 and SHA-256, an image its PDQ (when its quality is at least 50: below that PDQ matches
noise), a video its vPDQ. Each entry's `ref` is the file's path, so a later match says which file of
the unit's collection it was."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from vigil.hashsets import Entry
from vigil.media.sniff import is_image, is_video
from vigil.scan.hashing import Item
from vigil.scan.locations import segment
from vigil.scan.pipeline import Progress, default_workers, hash_evidence
from vigil.signals import digest_signals
from vigil.signals.pdq import PdqSignal
from vigil.signals.vpdq import pack


def entries_of(items: Iterable[Item], category: str | None) -> Iterator[Entry]:
    for it in items:
        kind = it.type or ""
        if it.error or not (is_image(kind) or is_video(kind)):
            continue
        for signal in digest_signals():
            if value := it.hash(signal.name):
                yield Entry(signal.name, bytes.fromhex(value), category, ref=it.path)
        if it.pdq and (it.pdq_quality or 0) >= PdqSignal.min_quality:
            yield Entry("pdq", bytes.fromhex(it.pdq), category, ref=it.path)
        if it.vpdq:
            yield Entry("vpdq", pack(it.vpdq), category, ref=it.path)


def hash_paths(
    paths: Iterable[Path], workers: int | None = None, progress: Progress | None = None
) -> list[Item]:
    items: list[Item] = []
    for path in paths:
        found = hash_evidence(path, workers or default_workers(), progress)
        prefix = f"{segment(path.name)}/" if path.is_dir() else ""
        for it in found:
            it.path = prefix + it.path
        items.extend(found)
    return items

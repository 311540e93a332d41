"""Disk images among the evidence files become tasks after the walk, one task per file inside.

The walk does not look into files: telling a disk image from any other file takes a `stat` and a
read, a tenth of the cost of hashing a small file, paid for every file of a disk by the one process
that feeds the workers. The worker that hashes a file sees its type and size anyway and reports the
disk images (`tasks.expandable`); once every task of the walk is done, their file systems are listed here
and their files are scanned like the walk's. A resumed scan finds the images it had recorded in the
case store (`ScanRunRepository.done_images`) and lists them again; their files already recorded are
skipped like any other done task.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator

from vigil.media import diskimage
from vigil.scan.tasks import Task, image_tasks


class FoundImages:
    """The disk images the workers report, and the tasks of their files once the walk's are done.

    `walk_batches` passes the walk's batches on and counts them; the results' counts come back
    through `completed`; `tasks` waits (in the thread that feeds the workers) until every walk task
    is done, or the scan stops (`cancel`: a failed batch is never counted), then lists each image
    in turn. The keys of images whose file systems cannot be read are kept in `invalid`: the
    scanning thread flags them once every row is stored."""

    def __init__(self, recorded: Iterable[str] = ()):
        self.recorded = set(recorded)  # a resumed run's images, found again by the walk
        self.found: list[tuple[str, str]] = []
        self.invalid: list[str] = []
        self._cancelled = False
        self._sent = self._done = 0
        self._walked = False
        self._change = threading.Condition()

    def walk_batches(self, batches: Iterable[list[Task]], remaining: Callable) -> Iterator[list[Task]]:
        """The walk's batches without their recorded tasks (`remaining`), counted; a recorded image
        is listed again."""
        for batch in batches:
            left = remaining(batch)
            if self.recorded and len(left) < len(batch):
                kept = {t.key for t in left}
                self.add([(t.key, t.fs_path) for t in batch if t.key in self.recorded and t.key not in kept])
            if left:
                with self._change:
                    self._sent += len(left)
                yield left
        with self._change:
            self._walked = True
            self._change.notify_all()

    def add(self, images: list[tuple[str, str]]) -> None:
        with self._change:
            self.found.extend(images)

    def completed(self, tasks: int) -> None:
        with self._change:
            self._done += tasks
            self._change.notify_all()

    def cancel(self) -> None:
        """The scan stops (a failure, an interrupt): a waiting `tasks` gives up."""
        with self._change:
            self._cancelled = True
            self._change.notify_all()

    def tasks(self) -> Iterator[Task]:
        with self._change:
            self._change.wait_for(lambda: self._cancelled or (self._walked and self._done >= self._sent))
            found = [] if self._cancelled else list(self.found)
        for key, fs_path in found:
            try:
                yield from image_tasks(key, fs_path)
            except diskimage.DiskImageError:  # hashed as a plain file; flagged as not a readable image
                self.invalid.append(key)

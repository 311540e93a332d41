"""Group commit for intake: one writer thread per process stores everything that is queued when it
becomes free in one transaction (one commit, one audit-chain append, one lock hand-over for the
group), while the event loop keeps reading and checking requests. Nothing is delayed to form a
group: under light load a group is one request. If a group fails, each of its requests is retried in
its own transaction, so one bad request never fails another."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable

MAX_GROUP = 64  # requests per group
MAX_GROUP_REPORTS = 1000  # reports per group (a batch request counts its reports)


class GroupWriter:
    def __init__(self, store: Callable[[list], list], size: Callable[[object], int] = lambda _: 1):
        self._store, self._size = store, size
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def submit(self, job):
        """Store `job` with whatever else is waiting; its result (or its exception)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((job, future, loop))
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="vigil-intake", daemon=True)
                    self._thread.start()
        return await future

    def _next_group(self) -> list:
        group = [self._queue.get()]
        reports = self._size(group[0][0])
        while len(group) < MAX_GROUP and reports < MAX_GROUP_REPORTS:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            group.append(item)
            reports += self._size(item[0])
        return group

    def _run(self) -> None:
        while True:
            group = self._next_group()
            try:
                outcomes = [(r, None) for r in self._store([job for job, _, _ in group])]
            except Exception as exc:  # noqa: BLE001 - handed to the request(s) it belongs to
                outcomes = [(None, exc)] if len(group) == 1 else [self._alone(job) for job, _, _ in group]
            by_loop: dict = {}  # one wake-up of each event loop for the whole group, not one per request
            for (_, future, loop), (result, exc) in zip(group, outcomes, strict=True):
                by_loop.setdefault(loop, []).append((future, result, exc))
            for loop, settled in by_loop.items():
                loop.call_soon_threadsafe(_settle_all, settled)

    def _alone(self, job) -> tuple:
        try:
            return self._store([job])[0], None
        except Exception as exc:  # noqa: BLE001
            return None, exc


def _settle_all(settled: list) -> None:
    for future, result, exc in settled:
        _settle(future, result, exc)


def _settle(future: asyncio.Future, result, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)

"""Checking hashes against the hash sets: the plain `POST /v1/hash-check` and intake's automatic check.

Both call `vigil.scan.lookup.lookup`, the function behind `vigil match`, on the hash sets' indexes
(exact digest segments and PDQ multi-indexes with their categories, memory-mapped). They are opened
once per process and reopened when the index manifest changes: at once for a change made in this
process (a counter in memory), within STAT_SECONDS for one made by another process on the same
folder (the manifest's time stamp: a system call per request cost intake ~15% of its throughput,
as it hands the GIL to the writer thread), and within RECHECK_SECONDS for one the database knows of
(another server): a 1,000-hash check is binary searches and one batched PDQ search, with no
database query."""

from __future__ import annotations

import threading
import time

from vigil.scan.lookup import MAX_HASHES, lookup
from vigil.store.db import Database
from vigil.store.setfolder import OpenSets
from vigil.store.setindex import SetIndexStore, manifests_written

RECHECK_SECONDS = 5.0
STAT_SECONDS = 0.25
__all__ = ["MAX_HASHES", "RECHECK_SECONDS", "HashChecker"]


class HashChecker:
    def __init__(self, db: Database, threshold: int | None = None):
        self.db, self.threshold = db, threshold
        self.store = SetIndexStore(db)
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._checked = self._statted = 0.0
        self._sets: OpenSets | None = None

    def _manifest_stamp(self) -> tuple:
        try:
            mtime = (self.store.folder / "manifest.json").stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        return manifests_written(), mtime

    def sets(self) -> OpenSets:
        """The open set indexes: current at once after a change made in this process, within
        STAT_SECONDS of one made by another process on this folder, and within RECHECK_SECONDS of one
        made elsewhere (another server on the same database)."""
        now = time.monotonic()
        sets = self._sets
        if sets is not None and now - self._checked <= RECHECK_SECONDS and self._stamp is not None:
            if self._stamp[0] == manifests_written() and now - self._statted <= STAT_SECONDS:
                return sets
            self._statted = now
            if self._manifest_stamp() == self._stamp:
                return sets
        with self._lock:
            if (
                self._sets is None
                or self._manifest_stamp() != self._stamp
                or now - self._checked > RECHECK_SECONDS
            ):
                self.store.sync()  # one query; rebuilds what the database has and the folder lacks
                stamp = self._manifest_stamp()
                if self._sets is None or stamp != self._stamp:  # unchanged: keep what is mapped
                    self._sets = OpenSets(self.store.folder, self.store.manifest())
                self._stamp, self._checked, self._statted = stamp, now, now
            return self._sets

    def check(self, hashes: list[str], signal: str | None = None, threshold: int | None = None) -> list[dict]:
        """For each hash (hex): {"hash", "matches": [{"hashset", "signal", "distance", "category"}]}."""
        return lookup(self.sets(), hashes, signal, self.threshold if threshold is None else threshold)

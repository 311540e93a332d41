"""Checking hashes against the hash sets: the plain `POST /v1/hash-check` and intake's automatic check.

The hash sets' indexes (exact digest segments and the PDQ multi-index, memory-mapped) are opened once
per process and reopened only when the index manifest changes (an import, disable or delete rewrites
it), so a 1,000-hash check is binary searches and one batched PDQ search, not database queries."""

from __future__ import annotations

import threading
import time

from vigil.index import MihPdqIndex, Segment
from vigil.index.exact import ExactSegment
from vigil.signals.pdq import PdqSignal
from vigil.store.db import Database
from vigil.store.hashsets import HashsetRepository
from vigil.store.setindex import SetIndexStore

BY_LENGTH = {32: ("md5",), 40: ("sha1",), 64: ("sha256", "pdq")}
SIGNALS = ("md5", "sha1", "sha256", "pdq")
RECHECK_SECONDS = 5.0
MAX_HASHES = 10_000


class HashChecker:
    def __init__(self, db: Database, threshold: int = PdqSignal.default_threshold):
        self.db, self.threshold = db, threshold
        self.store = SetIndexStore(db)
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._checked = 0.0
        self._exact: list[tuple[str, ExactSegment]] = []
        self._pdq = MihPdqIndex()

    def _manifest_stamp(self) -> int | None:
        manifest = self.store.folder / "manifest.json"
        return manifest.stat().st_mtime_ns if manifest.exists() else None

    def _indexes(self):
        now = time.monotonic()
        with self._lock:
            if (
                self._stamp is None
                or self._manifest_stamp() != self._stamp
                or now - self._checked > RECHECK_SECONDS
            ):
                sets = self.store.sets(
                    known=False
                )  # syncs with the database first (may rewrite the manifest)
                self._exact = [(name, ExactSegment.open(folder)) for name, folder, _ in sets]
                self._pdq = MihPdqIndex(Segment.open(folder / "pdq") for _, folder, e in sets if e["pdq"])
                self._stamp, self._checked = self._manifest_stamp(), now
            return self._exact, self._pdq

    def check(self, hashes: list[str], signal: str | None = None) -> list[dict]:
        """For each hash (hex): {"hash", "matches": [{"hashset", "signal", "distance", "category"}]}."""
        exact, pdq_index = self._indexes()
        values = [h.lower() for h in hashes]
        wanted: dict[str, set[bytes]] = {s: set() for s in SIGNALS}
        for v in values:
            for s in (signal,) if signal else BY_LENGTH.get(len(v), ()):
                wanted[s].add(bytes.fromhex(v))
        found: dict[tuple[str, str], list[dict]] = {}
        for s in ("md5", "sha1", "sha256"):
            if not wanted[s]:
                continue
            ordered = sorted(wanted[s])
            for set_name, segment in exact:
                for value, category in segment.lookup(s, ordered).items():
                    found.setdefault((s, value.hex()), []).append(
                        {"hashset": set_name, "signal": s, "distance": 0, "category": category}
                    )
        if wanted["pdq"] and len(pdq_index):
            queries = sorted(wanted["pdq"])
            hits = pdq_index.search(queries, self.threshold)
            ids = {m.id for row in hits for m in row}
            opinions = HashsetRepository(self.db).opinions_by_id(ids) if ids else {}
            for query, row in zip(queries, hits, strict=True):
                best: dict[tuple, int] = {}
                for m in row:
                    o = opinions[m.id]
                    key = (o.hashset, o.category)
                    best[key] = min(m.distance, best.get(key, 256))
                found[("pdq", query.hex())] = [
                    {"hashset": h, "signal": "pdq", "distance": d, "category": c}
                    for (h, c), d in best.items()
                ]
        results = []
        for v in values:
            matches = [
                m for s in ((signal,) if signal else BY_LENGTH.get(len(v), ())) for m in found.get((s, v), [])
            ]
            matches.sort(key=lambda m: (m["distance"], m["hashset"], m["signal"]))
            results.append({"hash": v, "matches": matches})
        return results

"""The PDQ index of a database, kept on disk beside it and in step with its hash sets.

One segment per enabled hash set (see vigil.index.mih): importing a set adds its segment, re-importing
replaces it, disabling or deleting drops it; nothing else is rebuilt. `manifest.json` records which
import of which set each segment holds, so any process can tell whether the index is current, and a
file lock lets one process at a time bring it up to date.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sqlalchemy import select

from vigil.errors import VigilError
from vigil.index import MihPdqIndex, Segment
from vigil.store.db import Database
from vigil.store.models import HashEntry, Hashset

MANIFEST_FORMAT = "vigil-pdq-index"
MANIFEST_VERSION = 1
FETCH = 100_000


def index_folder(db: Database) -> Path:
    """`<db file>.pdqindex` for SQLite; for a server database, a folder named after its URL."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).with_name(Path(url.database).name + ".pdqindex")
    base = Path(os.environ.get("VIGIL_INDEX_DIR") or Path.home() / ".local" / "share" / "vigil")
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return base / f"pdqindex-{digest}"


@contextmanager
def _locked(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _token(row) -> str:
    """What identifies one import of one set: a re-import, or another database, never matches."""
    return f"{row.name}|{row.imported_at.isoformat()}|{row.entry_count}|{row.file_sha256}"


class PdqIndexStore:
    def __init__(self, db: Database, folder: Path | None = None):
        self.db = db
        self.folder = folder or index_folder(db)

    def _manifest(self) -> dict:
        path = self.folder / "manifest.json"
        if not path.exists():
            return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "segments": {}}
        manifest = json.loads(path.read_text())
        if manifest.get("format") != MANIFEST_FORMAT or manifest.get("version") != MANIFEST_VERSION:
            raise VigilError(f"{path}: unknown index format; delete the folder to rebuild it")
        return manifest

    def _write_manifest(self, manifest: dict) -> None:
        tmp = self.folder / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp, self.folder / "manifest.json")

    def _wanted(self) -> dict[str, str]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(Hashset.__table__).where(Hashset.enabled, ~Hashset.known)).all()
        return {str(r.id): _token(r) for r in rows}

    def _build_segment(self, hashset_id: int) -> Segment:
        ids, codes = [], []
        with self.db.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=FETCH).execute(
                select(HashEntry.id, HashEntry.value)
                .where(HashEntry.hashset_id == hashset_id, HashEntry.signal == "pdq")
                .order_by(HashEntry.id)
            )
            for part in result.partitions(FETCH):
                ids.append(np.fromiter((r[0] for r in part), dtype=np.int64, count=len(part)))
                codes.append(np.frombuffer(b"".join(bytes(r[1]) for r in part), dtype=np.uint8))
        all_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        if len(all_ids) and all_ids.max() >= 2**32:
            raise VigilError("hash entry ids passed 2**32; the PDQ index keeps 32-bit ids")
        all_codes = np.concatenate(codes).reshape(-1, 32) if codes else np.zeros((0, 32), np.uint8)
        return Segment.build(all_codes, all_ids.astype(np.uint32))

    def sync(self) -> dict[str, int]:
        """Bring the index in step with the database; returns what changed."""
        with _locked(self.folder):
            manifest = self._manifest()
            have: dict = manifest["segments"]
            wanted = self._wanted()
            added = removed = 0
            for set_id in [s for s in have if have[s]["token"] != wanted.get(s)]:
                shutil.rmtree(self.folder / have.pop(set_id)["folder"], ignore_errors=True)
                removed += 1
            for set_id, token in wanted.items():
                if set_id in have:
                    continue
                segment = self._build_segment(int(set_id))
                name = f"set-{set_id}-{hashlib.sha256(token.encode()).hexdigest()[:12]}"
                segment.save(self.folder / name)
                have[set_id] = {"folder": name, "token": token, "count": len(segment)}
                added += 1
            if added or removed or not (self.folder / "manifest.json").exists():
                self._write_manifest(manifest)
            return {"added": added, "removed": removed}

    def open(self, sync: bool = True) -> MihPdqIndex:
        """The current index, memory-mapped; synced with the database first unless told not to."""
        if sync:
            self.sync()
        segments = self._manifest()["segments"].values()
        return MihPdqIndex(Segment.open(self.folder / s["folder"]) for s in segments if s["count"])

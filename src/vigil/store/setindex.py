"""The look-up indexes of a database's hash sets, kept on disk beside it, one folder per set.

Each enabled, current hash set has a segment folder holding its exact digests (vigil.index.exact:
sorted md5 / sha1 / sha256 with categories) and, when it has PDQ hashes, a PDQ multi-index segment
(vigil.index.mih) in `pdq/`. Importing a set writes its folder from the stream being imported;
re-importing, disabling or deleting drops it; nothing else is rebuilt. `manifest.json` records which
import of which set each folder holds, so any process can tell whether the indexes are current, and
a file lock lets one process at a time bring them up to date (from the database, for whatever is
missing). Delete the folder and it is rebuilt.
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
from sqlalchemy import func, select

from vigil.errors import VigilError
from vigil.index import MihPdqIndex, Segment
from vigil.index.exact import ExactBuilder
from vigil.index.vpdq import VpdqIndex
from vigil.signals import get_signal, indexed_by
from vigil.store.db import Database
from vigil.store.entryrange import of_set
from vigil.store.models import HashEntry, Hashset
from vigil.store.setfolder import (
    OpenSets,
    empty_manifest,
    folder_name,
    is_current,
    read_manifest,
    sqlite_index_folder,
)
from vigil.store.setfolder import token as _token

FETCH = 100_000
_written = [0]  # manifests written by this process: an in-memory stamp that costs no system call


def manifests_written() -> int:
    """How many times this process has rewritten an index manifest (any folder): a reader that saw
    the same number has seen every change made here."""
    return _written[0]


def index_folder(db: Database) -> Path:
    """`<db file>.index` for SQLite; for a server database, a folder named after its URL."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return sqlite_index_folder(url.database)
    base = Path(db.index_dir) if db.index_dir else Path.home() / ".local" / "share" / "vigil"
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return base / f"index-{digest}"


@contextmanager
def _locked(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def token(row) -> str:
    return _token(row.name, row.imported_at, row.entry_count, row.file_sha256)


class SetIndexStore:
    def __init__(self, db: Database, folder: Path | None = None):
        self.db = db
        self.folder = folder or index_folder(db)

    # -- manifest -------------------------------------------------------------------------------
    def _manifest(self) -> dict:
        return read_manifest(self.folder)

    def manifest(self) -> dict:
        """The manifest as it is on disk (call `sync` first to bring it up to date)."""
        return read_manifest(self.folder)

    def _write_manifest(self, manifest: dict) -> None:
        tmp = self.folder / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp, self.folder / "manifest.json")
        _written[0] += 1

    def _wanted(self) -> dict[str, dict]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(Hashset.__table__).where(Hashset.enabled, ~Hashset.archived)).all()
        return {str(r.id): {"token": token(r), "name": r.name, "known": bool(r.known)} for r in rows}

    # -- building -------------------------------------------------------------------------------
    def _build_near(self, set_id: int, folder: Path, signal: str) -> int:
        """The set's hashes of a "mih" signal as a multi-index segment in `<signal>/`, with each
        hash's category (its own, else the set's) in `cats.npy` / `labels.json`."""
        ids, codes, cats = [], [], []
        labels: dict[str | None, int] = {}
        with self.db.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=FETCH).execute(
                select(HashEntry.id, HashEntry.value, func.coalesce(HashEntry.category, Hashset.category))
                .join(Hashset, Hashset.id == HashEntry.hashset_id)
                .where(of_set(conn, set_id), HashEntry.signal == signal)
                .order_by(HashEntry.id)
            )
            for part in result.partitions(FETCH):
                ids.append(np.fromiter((r[0] for r in part), dtype=np.int64, count=len(part)))
                codes.append(np.frombuffer(b"".join(bytes(r[1]) for r in part), dtype=np.uint8))
                cats.append(
                    np.fromiter((labels.setdefault(r[2], len(labels)) for r in part), np.uint16, len(part))
                )
        if not ids:
            return 0
        all_ids = np.concatenate(ids)
        if all_ids.max() >= 2**32:
            raise VigilError("hash entry ids passed 2**32; the PDQ index keeps 32-bit ids")
        width = get_signal(signal).width
        segment = Segment.build(np.concatenate(codes).reshape(-1, width), all_ids.astype(np.uint32))
        segment.save(folder / signal)
        np.save(folder / signal / "cats.npy", np.concatenate(cats))
        (folder / signal / "labels.json").write_text(json.dumps(list(labels)))
        return len(segment)

    def _build_videos(self, set_id: int, folder: Path, signal: str) -> int:
        """The set's videos (entries of a "vpdq" signal) as one frame index in `<signal>/`."""
        unpack = get_signal(signal).unpack
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(HashEntry.id, HashEntry.value)
                .where(of_set(conn, set_id), HashEntry.signal == signal)
                .order_by(HashEntry.id)
            ).all()
        if not rows:
            return 0
        index = VpdqIndex.build((id_, unpack(bytes(value))) for id_, value in rows)
        index.save(folder / signal)
        return len(rows)

    def _build_exact_from_db(self, set_id: int) -> ExactBuilder:
        builder = ExactBuilder()
        with self.db.engine.connect() as conn:
            default = conn.execute(select(Hashset.category).where(Hashset.id == set_id)).scalar()
            result = conn.execution_options(stream_results=True, yield_per=FETCH).execute(
                select(HashEntry.signal, HashEntry.value, HashEntry.category)
                .where(of_set(conn, set_id), HashEntry.signal.in_([s.name for s in indexed_by("exact")]))
                .order_by(HashEntry.id)
            )
            for part in result.partitions(FETCH):
                builder.add_all((s, bytes(v), c or default) for s, v, c in part)
        return builder

    def build_set(self, set_id: int, exact: ExactBuilder | None = None) -> None:
        """Write set `set_id`'s folder (from `exact` when given, else from the database) and
        register it."""
        with _locked(self.folder):
            wanted = self._wanted().get(str(set_id))
            if wanted is None:
                return
            name = folder_name(set_id, wanted["token"])
            tmp = self.folder / (name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            counts = (exact or self._build_exact_from_db(set_id)).save(tmp)
            for signal in indexed_by("mih"):
                counts[signal.name] = self._build_near(set_id, tmp, signal.name)
            for signal in indexed_by("vpdq"):
                counts[signal.name] = self._build_videos(set_id, tmp, signal.name)
            shutil.rmtree(self.folder / name, ignore_errors=True)
            os.replace(tmp, self.folder / name)
            manifest = self._manifest()
            manifest["sets"][str(set_id)] = {**wanted, "folder": name, "counts": counts}
            self._write_manifest(manifest)

    def sync(self) -> dict[str, int]:
        """Bring the indexes in step with the database; returns what changed."""
        with _locked(self.folder):
            manifest = self._manifest()
            have: dict = manifest["sets"]
            wanted = self._wanted()
            if not have:  # a new folder, or one of an older version: start clean
                for old in self.folder.glob("set-*"):
                    shutil.rmtree(old, ignore_errors=True)
                manifest = empty_manifest()
                have = manifest["sets"]
            before = json.dumps(manifest, sort_keys=True)
            stale = [s for s in have if wanted.get(s, {}).get("token") != have[s]["token"]]
            for set_id in stale:
                shutil.rmtree(self.folder / have.pop(set_id)["folder"], ignore_errors=True)
            for set_id in have:  # known / name can change without a re-import
                have[set_id].update({k: wanted[set_id][k] for k in ("known", "name")})
            missing = [s for s in wanted if s not in have]
            if json.dumps(manifest, sort_keys=True) != before or not (self.folder / "manifest.json").exists():
                self._write_manifest(manifest)  # a scan syncs several times: write only on change
        for set_id in missing:
            self.build_set(int(set_id))
        return {"added": len(missing), "removed": len(stale)}

    # -- opening --------------------------------------------------------------------------------
    def open_sets(self) -> OpenSets:
        """Every current, enabled set's indexes, brought up to date with the database first."""
        self.sync()
        return OpenSets(self.folder, self._manifest())

    def is_current(self) -> bool:
        """Does the manifest name exactly the database's current sets? (one small query)"""
        return is_current(self._manifest(), self._wanted())

    def sets(self, known: bool | None = None) -> list[tuple[str, Path, dict]]:
        """(name, folder, manifest entry) of the indexed sets, optionally only (not) known ones."""
        return [
            (s.name, s.folder, s.entry) for s in self.open_sets().sets if known is None or s.known == known
        ]

    def open_pdq(self) -> MihPdqIndex:
        """The PDQ index of every current, enabled, not-known set, memory-mapped (ids: entry ids)."""
        return MihPdqIndex(s.near["pdq"].segment for s in self.open_sets().matching if "pdq" in s.near)

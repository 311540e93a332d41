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
from sqlalchemy import select

from vigil.errors import VigilError
from vigil.index import MihPdqIndex, Segment
from vigil.index.exact import ExactBuilder, ExactSegment
from vigil.index.vpdq import VpdqIndex
from vigil.signals.vpdq import unpack
from vigil.store.db import Database
from vigil.store.entryrange import of_set
from vigil.store.models import HashEntry, Hashset

MANIFEST_FORMAT = "vigil-set-index"
MANIFEST_VERSION = 1
FETCH = 100_000


def index_folder(db: Database) -> Path:
    """`<db file>.index` for SQLite; for a server database, a folder named after its URL."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).with_name(Path(url.database).name + ".index")
    base = Path(os.environ.get("VIGIL_INDEX_DIR") or Path.home() / ".local" / "share" / "vigil")
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
    """What identifies one import of one set: a re-import, or another database, never matches."""
    return f"{row.name}|{row.imported_at.isoformat()}|{row.entry_count}|{row.file_sha256}"


def folder_name(set_id: int, tok: str) -> str:
    return f"set-{set_id}-{hashlib.sha256(tok.encode()).hexdigest()[:12]}"


class SetIndexStore:
    def __init__(self, db: Database, folder: Path | None = None):
        self.db = db
        self.folder = folder or index_folder(db)

    # -- manifest -------------------------------------------------------------------------------
    def _manifest(self) -> dict:
        path = self.folder / "manifest.json"
        if not path.exists():
            return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "sets": {}}
        manifest = json.loads(path.read_text())
        if manifest.get("format") != MANIFEST_FORMAT or manifest.get("version") != MANIFEST_VERSION:
            raise VigilError(f"{path}: unknown index format; delete the folder to rebuild it")
        return manifest

    def _write_manifest(self, manifest: dict) -> None:
        tmp = self.folder / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp, self.folder / "manifest.json")

    def _wanted(self) -> dict[str, dict]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(Hashset.__table__).where(Hashset.enabled, ~Hashset.archived)).all()
        return {str(r.id): {"token": token(r), "name": r.name, "known": bool(r.known)} for r in rows}

    # -- building -------------------------------------------------------------------------------
    def _build_pdq(self, set_id: int, folder: Path) -> int:
        ids, codes = [], []
        with self.db.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=FETCH).execute(
                select(HashEntry.id, HashEntry.value)
                .where(of_set(conn, set_id), HashEntry.signal == "pdq")
                .order_by(HashEntry.id)
            )
            for part in result.partitions(FETCH):
                ids.append(np.fromiter((r[0] for r in part), dtype=np.int64, count=len(part)))
                codes.append(np.frombuffer(b"".join(bytes(r[1]) for r in part), dtype=np.uint8))
        if not ids:
            return 0
        all_ids = np.concatenate(ids)
        if all_ids.max() >= 2**32:
            raise VigilError("hash entry ids passed 2**32; the PDQ index keeps 32-bit ids")
        segment = Segment.build(np.concatenate(codes).reshape(-1, 32), all_ids.astype(np.uint32))
        segment.save(folder / "pdq")
        return len(segment)

    def _build_vpdq(self, set_id: int, folder: Path) -> int:
        """The set's videos (vPDQ entries) as one frame index in `vpdq/`; how many videos."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(HashEntry.id, HashEntry.value)
                .where(of_set(conn, set_id), HashEntry.signal == "vpdq")
                .order_by(HashEntry.id)
            ).all()
        if not rows:
            return 0
        index = VpdqIndex.build((id_, unpack(bytes(value))) for id_, value in rows)
        index.save(folder / "vpdq")
        return len(rows)

    def _build_exact_from_db(self, set_id: int) -> ExactBuilder:
        builder = ExactBuilder()
        with self.db.engine.connect() as conn:
            default = conn.execute(select(Hashset.category).where(Hashset.id == set_id)).scalar()
            result = conn.execution_options(stream_results=True, yield_per=FETCH).execute(
                select(HashEntry.signal, HashEntry.value, HashEntry.category)
                .where(of_set(conn, set_id), HashEntry.signal.not_in(("pdq", "vpdq")))
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
            pdq = self._build_pdq(set_id, tmp)
            vpdq = self._build_vpdq(set_id, tmp)
            shutil.rmtree(self.folder / name, ignore_errors=True)
            os.replace(tmp, self.folder / name)
            manifest = self._manifest()
            manifest["sets"][str(set_id)] = {
                **wanted,
                "folder": name,
                "counts": counts,
                "pdq": pdq,
                "vpdq": vpdq,
            }
            self._write_manifest(manifest)

    def sync(self) -> dict[str, int]:
        """Bring the indexes in step with the database; returns what changed."""
        with _locked(self.folder):
            manifest = self._manifest()
            have: dict = manifest["sets"]
            wanted = self._wanted()
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
    def sets(self, known: bool | None = None) -> list[tuple[str, Path, dict]]:
        """(name, folder, manifest entry) of the indexed sets, optionally only (not) known ones."""
        self.sync()
        out = []
        for entry in self._manifest()["sets"].values():
            if known is None or entry["known"] == known:
                out.append((entry["name"], self.folder / entry["folder"], entry))
        return sorted(out, key=lambda t: t[0])

    def open_pdq(self) -> MihPdqIndex:
        """The PDQ index of every current, enabled, not-known set, memory-mapped."""
        return MihPdqIndex(Segment.open(f / "pdq") for _, f, e in self.sets(known=False) if e["pdq"])

    def open_vpdq(self) -> list[tuple[str, VpdqIndex]]:
        """(set name, video index) of every current, enabled, not-known set with videos."""
        return [(n, VpdqIndex.open(f / "vpdq")) for n, f, e in self.sets(known=False) if e.get("vpdq")]

    def exact_segments(self, known: bool = False) -> list[tuple[str, ExactSegment]]:
        return [(name, ExactSegment.open(f)) for name, f, _ in self.sets(known=known)]

"""The known-good digests of a database, as memory-mapped sorted arrays beside it (see
vigil.index.known), rebuilt when a known set is imported, replaced, enabled or disabled."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
from sqlalchemy import select

from vigil.index.known import FORMAT, SIGNALS, VERSION, KnownDigests
from vigil.store.db import Database
from vigil.store.models import HashEntry, Hashset
from vigil.store.pdqindex import FETCH, _locked, _token, index_folder


def known_folder(db: Database) -> Path:
    pdq = index_folder(db)
    return pdq.with_name(pdq.name.replace("pdqindex", "knownindex"))


class KnownIndexStore:
    def __init__(self, db: Database, folder: Path | None = None):
        self.db = db
        self.folder = folder or known_folder(db)

    def sync(self) -> Path | None:
        """Rebuild if the known sets changed; the folder to open, or None when there are none."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(Hashset.__table__).where(Hashset.enabled, Hashset.known).order_by(Hashset.id)
            ).all()
        if not rows:
            return None
        token = [_token(r) for r in rows]
        with _locked(self.folder):
            manifest_path = self.folder / "manifest.json"
            if manifest_path.exists() and json.loads(manifest_path.read_text()).get("token") == token:
                return self.folder
            tmp = self.folder / "build.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            names = [r.name for r in rows]
            KnownDigests.write(tmp, names, {s: self._values(s, [r.id for r in rows]) for s in SIGNALS})
            for old in self.folder.glob("*.npy"):
                old.unlink()
            for new in tmp.iterdir():
                os.replace(new, self.folder / new.name)
            tmp.rmdir()
            (self.folder / "manifest.json.tmp").write_text(
                json.dumps({"format": FORMAT, "version": VERSION, "token": token, "names": names})
            )
            os.replace(self.folder / "manifest.json.tmp", manifest_path)
        return self.folder

    def _values(self, signal: str, set_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        width = {"md5": 16, "sha1": 20, "sha256": 32}[signal]
        position = {set_id: i for i, set_id in enumerate(set_ids)}
        digests, sets = [], []
        with self.db.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=FETCH).execute(
                select(HashEntry.value, HashEntry.hashset_id).where(
                    HashEntry.signal == signal, HashEntry.hashset_id.in_(set_ids)
                )
            )
            for part in result.partitions(FETCH):
                digests.append(np.frombuffer(b"".join(bytes(r[0]) for r in part), np.uint8))
                sets.append(np.fromiter((position[r[1]] for r in part), np.uint16, count=len(part)))
        if not digests:
            return np.zeros((0, width), np.uint8), np.zeros(0, np.uint16)
        return np.concatenate(digests).reshape(-1, width), np.concatenate(sets)

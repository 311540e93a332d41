"""Reading the hash sets' index folder: the manifest, and every current set's indexes opened at once
(memory-mapped). No SQLAlchemy here: `vigil match` and the API's hash check read through this module,
and a look-up on a current index costs one small query (`sqlite_wanted`) and binary searches.

A set's folder holds its exact segment (`exact.json`, `<signal>.npy`), one multi-index segment per
"mih" signal (`pdq/`, with `cats.npy` and `labels.json`: each hash's category, so a near match needs no
database query) and the frame index of its videos (`vpdq/`). Which signals go where is the signal
registry's `index` attribute.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

import numpy as np

from vigil.errors import VigilError
from vigil.index.exact import ExactSegment
from vigil.index.mih import Segment
from vigil.signals import indexed_by
from vigil.store.db import HEAD_REVISION

MANIFEST_FORMAT = "vigil-set-index"
MANIFEST_VERSION = 2  # 2: near segments carry categories; manifests of version 1 are rebuilt


def empty_manifest() -> dict:
    return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "sets": {}}


def read_manifest(folder: Path) -> dict:
    """The manifest of an index folder; an empty one when there is none or it is of an older
    version (the caller rebuilds what is missing)."""
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return empty_manifest()
    if manifest.get("format") != MANIFEST_FORMAT:
        raise VigilError(f"{path}: unknown index format; delete the folder to rebuild it")
    if manifest.get("version") != MANIFEST_VERSION:
        return empty_manifest()
    return manifest


def token(name: str, imported_at: datetime, entry_count: int, file_sha256: str | None) -> str:
    """What identifies one import of one set: a re-import, or another database, never matches."""
    return f"{name}|{imported_at.isoformat()}|{entry_count}|{file_sha256}"


def folder_name(set_id: int, tok: str) -> str:
    return f"set-{set_id}-{hashlib.sha256(tok.encode()).hexdigest()[:12]}"


def sqlite_index_folder(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".index")


def sqlite_wanted(path: str | Path) -> dict[str, dict] | None:
    """The current, enabled sets of an SQLite database as the manifest names them (id -> token, name,
    known), read with the standard library; None when the schema is not at the newest migration
    (the caller then opens the database the full way, which migrates)."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return None
    try:
        revision = conn.execute("select version_num from alembic_version").fetchone()
        if revision is None or revision[0] != HEAD_REVISION:
            return None
        rows = conn.execute(
            "select id, name, imported_at, entry_count, file_sha256, known from hashsets "
            "where enabled and not archived"
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return {
        str(id_): {
            "token": token(name, datetime.fromisoformat(at), count, sha),
            "name": name,
            "known": bool(known),
        }
        for id_, name, at, count, sha, known in rows
    }


def is_current(manifest: dict, wanted: dict[str, dict]) -> bool:
    have = manifest["sets"]
    return have.keys() == wanted.keys() and all(
        have[k]["token"] == w["token"] and have[k]["name"] == w["name"] and have[k]["known"] == w["known"]
        for k, w in wanted.items()
    )


@dataclass(frozen=True)
class NearSegment:
    """A multi-index segment with each hash's category (a position in `labels`)."""

    segment: Segment
    cats: np.ndarray
    labels: list

    @classmethod
    def open(cls, folder: Path) -> NearSegment:
        labels = json.loads((folder / "labels.json").read_text())
        return cls(Segment.open(folder), np.load(folder / "cats.npy", mmap_mode="r"), labels)


@dataclass
class IndexedSet:
    name: str
    known: bool
    folder: Path
    entry: dict = field(repr=False)

    @cached_property
    def exact(self) -> ExactSegment:
        return ExactSegment.open(self.folder)

    @cached_property
    def near(self) -> dict[str, NearSegment]:
        return {
            s.name: NearSegment.open(self.folder / s.name)
            for s in indexed_by("mih")
            if self.entry["counts"].get(s.name)
        }

    @cached_property
    def videos(self) -> dict:
        from vigil.index.vpdq import VpdqIndex

        return {
            s.name: VpdqIndex.open(self.folder / s.name)
            for s in indexed_by("vpdq")
            if self.entry["counts"].get(s.name)
        }


class OpenSets:
    """Every current, enabled set's indexes, opened (memory-mapped) on first use. Immutable: a
    changed manifest means a new OpenSets."""

    def __init__(self, folder: Path, manifest: dict):
        self.folder, self.manifest = folder, manifest
        self.sets = sorted(
            (
                IndexedSet(e["name"], bool(e["known"]), folder / e["folder"], e)
                for e in manifest["sets"].values()
            ),
            key=lambda s: s.name,
        )
        self.matching = [s for s in self.sets if not s.known]

    def exact(self, signal: str, values: list[bytes]) -> dict[bytes, list[tuple[str, str | None]]]:
        """For each value a not-known set lists: (set name, category), one per set and category."""
        unique = sorted(set(values))
        found: dict[bytes, list[tuple[str, str | None]]] = {}
        for s in self.matching:
            if not s.entry["counts"].get(signal):
                continue
            for value, category in s.exact.lookup(signal, unique).items():
                opinions = found.setdefault(value, [])
                if (s.name, category) not in opinions:
                    opinions.append((s.name, category))
        return found

    def near(
        self, signal: str, groups: list[list[bytes]], threshold: int
    ) -> list[list[tuple[str, int, str | None]]]:
        """For each group of query variants (an image's 8 rotations and mirrors, or one hash): every
        (set name, distance, category) within `threshold` of any variant, at the smallest distance for
        each set and category, closest first."""
        out: list[dict[tuple[str, str | None], int]] = [{} for _ in groups]
        if not groups:
            return []
        owner = np.repeat(np.arange(len(groups)), [len(g) for g in groups]).tolist()
        blob = b"".join(v for g in groups for v in g)
        for s in self.matching:
            seg = s.near.get(signal) if s.entry["counts"].get(signal) else None
            if seg is None:
                continue
            q, p, d = seg.segment.search_raw(blob, threshold)
            if not len(q):
                continue
            cats = seg.cats[p].tolist()
            for qi, c, dist in zip(q.tolist(), cats, d.tolist(), strict=True):
                best = out[owner[qi]]
                key = (s.name, seg.labels[c])
                if dist < best.get(key, 257):
                    best[key] = dist
        return [
            sorted(((n, dist, c) for (n, c), dist in best.items()), key=lambda m: (m[1], m[0], m[2] or ""))
            if len(best) > 1
            else [(n, dist, c) for (n, c), dist in best.items()]
            for best in out
        ]

    def videos(self, signal: str) -> list[tuple[str, object]]:
        """(set name, VpdqIndex) of the not-known sets holding videos of `signal`."""
        return [(s.name, s.videos[signal]) for s in self.matching if s.entry["counts"].get(signal)]


def open_current_sqlite(path: str | Path) -> OpenSets | None:
    """The index of an SQLite database opened without SQLAlchemy, when it is current (the manifest
    names exactly the database's current sets); None otherwise (the caller syncs it the full way)."""
    wanted = sqlite_wanted(path)
    if wanted is None:
        return None
    folder = sqlite_index_folder(path)
    manifest = read_manifest(folder)
    if not is_current(manifest, wanted):
        return None
    return OpenSets(folder, manifest)

"""Hash-set repository: transactional import, listing, and the lookups a scan needs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

from sqlalchemy import func, insert, select, update

from vigil.errors import NotFoundError, VigilError
from vigil.hashsets import Entry
from vigil.store.db import Database, utcnow
from vigil.store.entryrange import next_id, of_set
from vigil.store.entrywriter import EntryWriter
from vigil.store.models import HashEntry, Hashset
from vigil.store.setadmin import SEPARATOR, archive_current, diff_ids
from vigil.store.setadmin import set_id as find_set_id
from vigil.store.setfolder import OpenSets
from vigil.store.setindex import SetIndexStore

LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class HashsetInfo:
    name: str
    source: str | None
    category: str | None
    format: str
    entries: int
    imported_at: str
    file_sha256: str | None
    enabled: bool
    known: bool
    version: int
    archived: bool
    changes: dict | None = None  # after a re-import: counts of added / removed / changed entries

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        if out["changes"] is None:
            del out["changes"]
        return out


@dataclass(frozen=True)
class Opinion:
    """What one hash set says about one hash."""

    hashset: str
    category: str | None


def _file_sha256(path: Path) -> str:
    """SHA-256 of the imported file; of a folder, over its files' names and SHA-256s."""
    if path.is_dir():
        lines = "".join(
            f"{p.relative_to(path).as_posix()} {_file_sha256(p)}\n"
            for p in sorted(path.rglob("*"))
            if p.is_file()
        )
        return hashlib.sha256(lines.encode()).hexdigest()
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _batches(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class HashsetRepository:
    def __init__(self, db: Database):
        self.db = db

    def import_entries(
        self,
        name: str,
        entries: Iterable[Entry],
        *,
        fmt: str,
        source: str | None = None,
        category: str | None = None,
        path: Path | None = None,
        known: bool = False,
        progress: Callable[[int], None] | None = None,
        allow_empty: bool = False,
        diff: bool = True,
    ) -> HashsetInfo:
        """Replace (or create) hash set `name` with `entries`, all in one transaction.

        Any error while reading rolls everything back: the database is as it was before. A list
        that yields no entry at all is an error unless `allow_empty`: a file of the wrong shape
        (say, VICS whose `value` holds no media) must not silently replace a set with nothing.
        `diff=False`: no count of what changed (a feed's set, rebuilt from its own record of changes,
        would otherwise read both versions of a million entries to compare them).
        """
        if not name.strip():
            raise VigilError("--name must not be empty")
        if SEPARATOR in name:
            raise VigilError(
                f"--name must not contain {SEPARATOR!r}: NAME{SEPARATOR}VERSION is an old version"
            )
        now = utcnow()
        digest = _file_sha256(path) if path else None
        with self.db.engine.begin() as conn:
            previous, version = archive_current(conn, name)
            set_id = conn.execute(
                insert(Hashset).values(
                    name=name,
                    source=source,
                    category=category,
                    format=fmt,
                    file_path=str(path) if path else None,
                    file_sha256=digest,
                    imported_at=now,
                    entry_count=0,
                    enabled=True,
                    known=known,
                    version=version,
                )
            ).inserted_primary_key[0]
            first = next_id(conn)
            writer = EntryWriter(conn, set_id, category)
            count = writer.write(entries, progress)
            if count == 0 and not allow_empty:
                where = f"{path}: " if path else ""
                raise VigilError(
                    f"{where}no hash entries found, nothing imported into {name!r}; check the file and "
                    "--format (use --allow-empty to make an empty set on purpose)"
                )
            last = next_id(conn) - 1
            conn.execute(
                update(Hashset)
                .where(Hashset.id == set_id)
                .values(entry_count=count, first_id=first if count else None, last_id=last if count else None)
            )
            changes = diff_ids(conn, previous, set_id) if previous is not None and diff else None
        store = SetIndexStore(self.db)
        store.build_set(set_id, writer.exact)
        store.sync()  # drops the replaced version's folder
        info = self.get(name)
        return info if changes is None else replace(info, changes={k: len(v) for k, v in changes.items()})

    def get(self, name: str) -> HashsetInfo:
        with self.db.engine.connect() as conn:
            row = conn.execute(select(Hashset.__table__).where(Hashset.name == name)).first()
        if row is None:
            raise NotFoundError(f"no hash set named {name!r} (see `vigil hashset list`)")
        return _info(row)

    def list(self, archived: bool = False) -> list[HashsetInfo]:
        query = select(Hashset.__table__).order_by(Hashset.name)
        if not archived:
            query = query.where(~Hashset.archived)
        with self.db.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_info(r) for r in rows]

    def count_by_signal(self) -> dict[str, int]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(HashEntry.signal, func.count())
                .join(Hashset, Hashset.id == HashEntry.hashset_id)
                .where(~Hashset.archived)
                .group_by(HashEntry.signal)
            ).all()
        return {signal: n for signal, n in rows}

    def signals_of(self, name: str) -> dict[str, int]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(HashEntry.signal, func.count())
                .where(of_set(conn, find_set_id(conn, name)))
                .group_by(HashEntry.signal)
            ).all()
        return {signal: n for signal, n in rows}

    # -- lookups -------------------------------------------------------------------------------
    def open_sets(self) -> OpenSets:
        """The indexes of every current, enabled set, brought up to date with the database first:
        what scans and look-ups match against (vigil.store.setfolder)."""
        return SetIndexStore(self.db).open_sets()

    def exact_opinions(self, signal: str, values: Iterable[bytes]) -> dict[bytes, list[Opinion]]:
        """For each value listed by a current, enabled, not-known set: who lists it, with what
        category (binary searches in the sets' exact segments; no database query)."""
        found = self.open_sets().exact(signal, list(values))
        return {v: [Opinion(n, c) for n, c in pairs] for v, pairs in found.items()}

    def opinions_by_id(self, entry_ids: Iterable[int]) -> dict[int, Opinion]:
        out: dict[int, Opinion] = {}
        with self.db.engine.connect() as conn:
            for chunk in _batches(sorted(set(entry_ids)), LOOKUP_CHUNK):
                rows = conn.execute(
                    select(HashEntry.id, Hashset.name, HashEntry.category, Hashset.category)
                    .join(Hashset, Hashset.id == HashEntry.hashset_id)
                    .where(HashEntry.id.in_(chunk))
                ).all()
                for id_, set_name, cat, default in rows:
                    out[id_] = Opinion(set_name, cat or default)
        return out


def _info(row) -> HashsetInfo:
    return HashsetInfo(
        name=row.name,
        source=row.source,
        category=row.category,
        format=row.format,
        entries=row.entry_count,
        imported_at=row.imported_at.isoformat(timespec="seconds"),
        file_sha256=row.file_sha256,
        enabled=bool(row.enabled),
        known=bool(row.known),
        version=row.version,
        archived=bool(row.archived),
    )

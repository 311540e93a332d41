"""Hash-set versions and their administration: archive on re-import, diff, enable/disable/delete,
and reading a set's entries back for export."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Connection

from vigil.errors import NotFoundError, VigilError
from vigil.hashsets import Entry
from vigil.store.db import Database
from vigil.store.entryrange import of_set
from vigil.store.models import HashEntry, Hashset

SEPARATOR = "@"


def set_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(Hashset.id).where(Hashset.name == name)).scalar()
    if found is None:
        raise NotFoundError(f"no hash set named {name!r} (see `vigil hashset list --all`)")
    return found


def archive_current(conn: Connection, name: str) -> tuple[int | None, int]:
    """Keep the current version of `name` as `name@VERSION` (disabled, archived); return its id
    and the version number the new import gets."""
    row = conn.execute(select(Hashset.id, Hashset.version).where(Hashset.name == name)).first()
    if row is None:
        return None, 1
    conn.execute(
        update(Hashset)
        .where(Hashset.id == row.id)
        .values(name=f"{name}{SEPARATOR}{row.version}", archived=True, enabled=False)
    )
    return row.id, row.version + 1


def _pairs(conn: Connection, hashset_id: int) -> dict[tuple[str, bytes], str | None]:
    rows = conn.execute(
        select(HashEntry.signal, HashEntry.value, HashEntry.category, Hashset.category)
        .join(Hashset, Hashset.id == HashEntry.hashset_id)
        .where(of_set(conn, hashset_id))
    )
    return {(s, bytes(v)): (c or d) for s, v, c, d in rows}


def diff_ids(conn: Connection, a: int, b: int) -> dict[str, list[dict]]:
    """What `b` adds to, removes from and changes in `a`: entries by (signal, hash), and category."""
    old, new = _pairs(conn, a), _pairs(conn, b)

    def ref(key):
        return {"signal": key[0], "hash": key[1].hex()}

    return {
        "added": [{**ref(k), "category": new[k]} for k in sorted(new.keys() - old.keys())],
        "removed": [{**ref(k), "category": old[k]} for k in sorted(old.keys() - new.keys())],
        "changed": [
            {**ref(k), "from": old[k], "to": new[k]}
            for k in sorted(old.keys() & new.keys())
            if old[k] != new[k]
        ],
    }


class SetAdmin:
    def __init__(self, db: Database):
        self.db = db

    def diff(self, a: str, b: str) -> dict[str, list[dict]]:
        with self.db.engine.connect() as conn:
            return diff_ids(conn, set_id(conn, a), set_id(conn, b))

    def set_enabled(self, name: str, enabled: bool) -> None:
        with self.db.engine.begin() as conn:
            row = conn.execute(select(Hashset.id, Hashset.archived).where(Hashset.name == name)).first()
            if row is None:
                set_id(conn, name)
            if row.archived and enabled:
                raise VigilError(f"{name!r} is an archived version; import it again to make it current")
            conn.execute(update(Hashset).where(Hashset.id == row.id).values(enabled=enabled))
        self._sync()

    def delete(self, name: str) -> int:
        """Delete a set and its archived versions (or one archived version); returns how many."""
        with self.db.engine.begin() as conn:
            set_id(conn, name)
            names = [name] if SEPARATOR in name else None
            query = select(Hashset.id).where(
                Hashset.name == name
                if names
                else or_(Hashset.name == name, Hashset.name.like(f"{_escape(name)}{SEPARATOR}%", escape="\\"))
            )
            ids = [r[0] for r in conn.execute(query)]
            for one in ids:
                conn.execute(delete(HashEntry).where(of_set(conn, one)))
            conn.execute(delete(Hashset).where(Hashset.id.in_(ids)))
        self._sync()
        return len(ids)

    def entries(self, name: str) -> Iterator[Entry]:
        with self.db.engine.connect() as conn:
            hid = set_id(conn, name)
            default = conn.execute(select(Hashset.category).where(Hashset.id == hid)).scalar()
            rows = conn.execution_options(stream_results=True, yield_per=10_000).execute(
                select(
                    HashEntry.signal,
                    HashEntry.value,
                    HashEntry.category,
                    HashEntry.series,
                    HashEntry.comment,
                    HashEntry.ref,
                    HashEntry.extra,
                )
                .where(of_set(conn, hid))
                .order_by(HashEntry.id)
            )
            for signal, value, category, series, comment, ref, extra in rows:
                yield Entry(signal, bytes(value), category or default, series, comment, ref, extra)

    def _sync(self) -> None:
        from vigil.store.setindex import SetIndexStore

        SetIndexStore(self.db).sync()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

"""Which hash_entries rows belong to a set: a range of ids, recorded at import.

An import writes its rows in one transaction of the single writer, so they take consecutive ids;
the set records the first and last. Selecting a set's rows is then a range scan of the table itself,
and SQLite needs no index on `hashset_id`, which cost a quarter of every import's insert time.
(`hashset_id` is still checked, so a range shared with another writer could not leak rows.)
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.engine import Connection

from vigil.store.models import HashEntry, Hashset


def next_id(conn: Connection) -> int:
    return (conn.execute(select(func.max(HashEntry.id))).scalar() or 0) + 1


def of_set(conn: Connection, set_id: int) -> ColumnElement[bool]:
    first, last = conn.execute(select(Hashset.first_id, Hashset.last_id).where(Hashset.id == set_id)).one()
    if first is None or last is None:  # a set imported before ranges were recorded
        return HashEntry.hashset_id == set_id
    return and_(HashEntry.id.between(first, last), HashEntry.hashset_id == set_id)

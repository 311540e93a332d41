"""A case's items read and written in bounded batches: a case of ten million files is never held in
memory. Reads walk the items by id (keyset paging on the primary key, which the `case_id` index
gives in order) or stream them by path (the database sorts, spilling to disk); writes are
executemany batches, one transaction each."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import and_, bindparam, case, func, or_, select, update

from vigil.store.db import Database
from vigil.store.models import CaseItem

BATCH = 20_000


def keyset(db: Database, case_id: int, columns: Sequence, where=None, batch: int = BATCH) -> Iterator[list]:
    """The case's items (`columns`, plus `id`) matching `where`, by id, `batch` rows at a time."""
    last = 0
    condition = CaseItem.case_id == case_id
    if where is not None:
        condition = and_(condition, where)
    with db.engine.connect() as conn:
        while True:
            query = (
                select(CaseItem.id, *columns)
                .where(condition, CaseItem.id > last)
                .order_by(CaseItem.id)
                .limit(batch)
            )
            rows = conn.execute(query).all()
            if not rows:
                return
            yield rows
            last = rows[-1].id


def by_path(db: Database, case_id: int, columns: Sequence, where=None, batch: int = BATCH) -> Iterator:
    """The case's items (`columns`) matching `where` in path order, streamed (the rows of one
    `batch` in memory at a time)."""
    return ordered(db, case_id, columns, (CaseItem.path, CaseItem.id), where, batch)


def ordered(db: Database, case_id: int, columns: Sequence, order: Sequence, where=None, batch: int = BATCH):
    """The case's items (`columns`) matching `where` in `order`, streamed: the database sorts
    (SQLite spills a large sort to temporary files), one `batch` of rows in memory at a time."""
    condition = CaseItem.case_id == case_id
    if where is not None:
        condition = and_(condition, where)
    query = select(*columns).where(condition).order_by(*order)
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
        yield from result


def set_values(db: Database, case_id: int, rows: Iterable[dict], batch: int = BATCH) -> None:
    """Update items by id: each row is {"id", column: value, ...}, all rows with the same columns;
    one transaction per `batch` rows."""
    pending: list[dict] = []
    for row in rows:
        pending.append(row)
        if len(pending) >= batch:
            _update(db, case_id, pending)
            pending = []
    if pending:
        _update(db, case_id, pending)


def _update(db: Database, case_id: int, rows: list[dict]) -> None:
    columns = [k for k in rows[0] if k != "id"]
    statement = (
        update(CaseItem.__table__)
        .where(CaseItem.__table__.c.id == bindparam("_id"), CaseItem.__table__.c.case_id == case_id)
        .values({c: bindparam(f"v_{c}") for c in columns})
    )
    with db.engine.begin() as conn:
        conn.execute(statement, [{"_id": r["id"], **{f"v_{c}": r[c] for c in columns}} for r in rows])


def counts(db: Database, case_id: int, flagged: dict[str, Iterable[str]]) -> dict[str, int]:
    """One pass of the database over the case: files, images, videos, known, errors, and for each
    name of `flagged` the items that carry any of its flags."""
    item = CaseItem.__table__.c

    def any_flag(names: Iterable[str]):
        return func.count(case((or_(*(item.flags.like(f'%"{n}"%') for n in names)), 1)))

    columns = {
        "files": func.count(),
        "images": func.count(case((item.type.like("image/%"), 1))),
        "videos": func.count(case((item.type.like("video/%"), 1))),
        "known": func.count(item.known),
        "errors": func.count(item.error),
        **{name: any_flag(names) for name, names in flagged.items()},
    }
    query = select(*(c.label(name) for name, c in columns.items())).where(item.case_id == case_id)
    with db.engine.connect() as conn:
        row = conn.execute(query).one()
    return {name: getattr(row, name) or 0 for name in columns}


def clear(db: Database, case_id: int, column: str, empty) -> None:
    """Set `column` back to `empty` on every item of the case that has another value (a resumed
    scan matches and groups again from scratch)."""
    target = CaseItem.__table__.c[column]
    differs = target.is_not(None) if empty is None else target != empty
    with db.engine.begin() as conn:
        conn.execute(
            update(CaseItem.__table__).where(CaseItem.case_id == case_id, differs).values({column: empty})
        )


def type_counts(db: Database, case_id: int, top: int) -> list[tuple[str, int]]:
    """The `top` most common types of the case's items, with their counts (no type: "unknown")."""
    item = CaseItem.__table__.c
    n = func.count().label("n")
    query = (
        select(item.type, n).where(item.case_id == case_id).group_by(item.type).order_by(n.desc(), item.type)
    )
    with db.engine.connect() as conn:
        return [(t or "unknown", c) for t, c in conn.execute(query.limit(top))]

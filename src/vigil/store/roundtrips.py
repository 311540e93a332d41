"""Several statements in one round trip to PostgreSQL, for a transaction that holds a lock others
wait for (intake holds the audit chain's): each statement sent on its own waited for the server, and
the lock was held through every wait. On PostgreSQL the statements go out together in one psycopg
pipeline; the server still runs them in order, each with its own snapshot (READ COMMITTED), so a read
queued after a lock sees everything committed before the lock was granted. SQLite is in-process:
there the statements simply run one by one through SQLAlchemy."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable


def read_all(conn: Connection, queries: list[tuple[Executable, dict]]) -> list[list]:
    """Run (statement, params) in order; each one's rows (a statement that returns none gives [])."""
    if conn.dialect.name != "postgresql":
        out = []
        for statement, params in queries:
            result = conn.execute(statement, params)
            out.append(result.all() if result.returns_rows else [])
        return out
    raw = conn.connection.driver_connection
    cursors = []
    with _as_sqlalchemy_errors(), raw.pipeline():
        for statement, params in queries:
            cursor = raw.cursor(row_factory=namedtuple_row)
            sql, fixed = _psycopg_sql(statement, conn.dialect)
            cursor.execute(sql, {**fixed, **params})
            cursors.append(cursor)
    try:
        return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def write_all(conn: Connection, writes: list[tuple], commit: bool = True) -> None:
    """Run (statement, rows) in order, answers unread, as the transaction's last step. On PostgreSQL
    the writes and the COMMIT go in one pipeline, so the transaction is over when this returns (its
    context manager's own commit then finds nothing to do); on SQLite the context manager commits.
    (`commit=False`: the caller rolls back; a warm-up.) Rows carry every value: the models'
    Python-side defaults are not applied on PostgreSQL."""
    if conn.dialect.name != "postgresql":
        for statement, rows in writes:
            conn.execute(statement, rows)
        return
    compiled = [
        (_psycopg_sql(statement, conn.dialect, tuple(rows[0]))[0], rows) for statement, rows in writes
    ]
    raw = conn.connection.driver_connection
    with _as_sqlalchemy_errors(), raw.pipeline(), raw.cursor() as cursor:
        for sql, rows in compiled:
            cursor.executemany(sql, rows)
        if commit:
            raw.commit()  # queued behind the writes; the pipeline's one sync waits for all of it


@contextmanager
def _as_sqlalchemy_errors():
    """psycopg's errors raised as SQLAlchemy's (DBAPIError, with the driver's as `orig`), as from a
    statement run through SQLAlchemy, so callers handle one kind."""
    try:
        yield
    except psycopg.Error as exc:
        raise DBAPIError(None, None, exc) from exc


@lru_cache(maxsize=512)
def _psycopg_sql(statement: Executable, dialect, keys: tuple[str, ...] | None = None) -> tuple[str, dict]:
    """The statement as psycopg takes it (%(name)s placeholders), compiled once, and the values it
    fixes itself (a LIMIT's); for an insert or update run over rows, `keys` are the rows' keys (the
    columns it names)."""
    if keys is None:
        compiled = statement.compile(dialect=dialect)
    else:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    return str(compiled), {k: v for k, v in compiled.params.items() if v is not None}

"""The audit log: append-only and hash-chained. Each row's hash is SHA-256 over the previous row's
hash and the row's own content, so changing or deleting any row breaks the chain at that row, and
`vigil audit verify` says where (by the hash links alone: ids may have gaps). Appends are serialised
(a PostgreSQL advisory lock; SQLite has one writer) so concurrent API workers never fork the chain.
(Cutting rows off the end leaves a valid shorter chain: anchor the latest hash elsewhere, printed by
`vigil audit verify`, to detect that.)"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection

from vigil.store.db import Database, utcnow
from vigil.store.models import AuditEntry

GENESIS = "0" * 64
_LOCK = 4242_0001


def _digest(prev: str, at: datetime, actor: str, org_id, action: str, obj: str, detail: str) -> str:
    canonical = json.dumps([prev, at.isoformat(), actor, org_id, action, obj, detail], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_LOCK_PG = text("SELECT pg_advisory_xact_lock(:k)")
_LOCK_SQLITE = text("UPDATE audit_log SET id = id WHERE 0")


def lock_query(conn: Connection) -> tuple:
    """(statement, params) that serialise appends until the caller's transaction ends (PostgreSQL:
    an advisory lock; SQLite: the database write lock, taken by a write that changes nothing); to be
    run before the last hash is read."""
    return (_LOCK_PG, {"k": _LOCK}) if conn.dialect.name == "postgresql" else (_LOCK_SQLITE, {})


def lock_chain(conn: Connection) -> None:
    conn.execute(*lock_query(conn))


LAST_HASH = text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")


def append(
    conn: Connection, actor: str, org_id: int | None, action: str, obj: str, detail: dict | None = None
) -> None:
    """Add one row, in the caller's transaction (so the audited change and its record commit together)."""
    append_many(conn, [(actor, org_id, action, obj, detail)])


def append_many(conn: Connection, rows: list[tuple]) -> None:
    """Add rows `(actor, org_id, action, object, detail)` in order, in the caller's transaction: the
    chain is locked and its last hash read once for all of them, and they are inserted in one
    statement. (Intake, which holds the chain's lock already, inserts `chained` rows itself.)"""
    if not rows:
        return
    lock_chain(conn)
    conn.execute(INSERT, chained(last_hash(conn), rows))


INSERT = insert(AuditEntry)


def last_hash(conn: Connection) -> str:
    """The hash the next row must follow (read with the chain locked)."""
    return last_hash_of(conn.execute(LAST_HASH).all())


def last_hash_of(rows: list) -> str:
    """The hash the next row must follow, from the rows of LAST_HASH."""
    return rows[0][0] if rows else GENESIS


def chained(prev: str, rows: list[tuple]) -> list[dict]:
    """The audit_log rows for `(actor, org_id, action, object, detail)` after the row hashed `prev`,
    for a caller that inserts them itself (INSERT) with the chain locked."""
    at = utcnow()
    values = []
    for actor, org_id, action, obj, detail in rows:
        blob = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"))
        digest = _digest(prev, at, actor, org_id, action, obj, blob)
        values.append(
            {
                "at": at,
                "actor": actor,
                "org_id": org_id,
                "action": action,
                "object": obj,
                "detail": blob,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return values


def verify(db: Database) -> tuple[int, list[str], str]:
    """(rows checked, problems, hash of the last row). Problems name the row id and what broke.

    The chain is the evidence, not the ids: each row must carry the previous row's hash and its own
    content's hash. Ids may have gaps with nothing wrong (PostgreSQL hands out a sequence number to
    an audited change that was then rolled back), and a deleted row shows as the next row not
    following the one before it."""
    problems, prev, count, last_id = [], GENESIS, 0, None
    with db.engine.connect() as conn:
        for row in conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.id)):
            count += 1
            if row.prev_hash != prev:
                after = f"row {last_id}" if last_id is not None else "the start of the log"
                problems.append(
                    f"row {row.id}: does not follow {after} (a row between them was deleted, "
                    f"or one of them changed)"
                )
            if (
                _digest(row.prev_hash, row.at, row.actor, row.org_id, row.action, row.object, row.detail)
                != row.hash
            ):
                problems.append(f"row {row.id}: its content was changed after it was written")
            prev, last_id = row.hash, row.id
    return count, problems, prev

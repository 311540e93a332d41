"""The audit log: append-only and hash-chained. Each row's hash is SHA-256 over the previous row's
hash and the row's own content, so changing or deleting any row breaks the chain at that row, and
`vigil audit verify` says where. Appends are serialised (a PostgreSQL advisory lock; SQLite has one
writer) so concurrent API workers never fork the chain. (Cutting rows off the end leaves a valid
shorter chain: anchor the latest hash elsewhere — printed by `vigil audit verify` — to detect that.)"""

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


def append(
    conn: Connection, actor: str, org_id: int | None, action: str, obj: str, detail: dict | None = None
) -> None:
    """Add one row, in the caller's transaction (so the audited change and its record commit together)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    else:  # SQLite: take the write lock before reading the last hash (a write that changes nothing)
        conn.execute(text("UPDATE audit_log SET id = id WHERE 0"))
    prev = conn.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar() or GENESIS
    at = utcnow()
    blob = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"))
    conn.execute(
        insert(AuditEntry).values(
            at=at,
            actor=actor,
            org_id=org_id,
            action=action,
            object=obj,
            detail=blob,
            prev_hash=prev,
            hash=_digest(prev, at, actor, org_id, action, obj, blob),
        )
    )


def verify(db: Database) -> tuple[int, list[str], str]:
    """(rows checked, problems, hash of the last row). Problems name the row id and what broke."""
    problems, prev, count, last_id = [], GENESIS, 0, None
    with db.engine.connect() as conn:
        for row in conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.id)):
            count += 1
            if last_id is not None and row.id != last_id + 1:
                problems.append(f"rows {last_id + 1}-{row.id - 1} are missing (deleted)")
            if row.prev_hash != prev:
                problems.append(
                    f"row {row.id}: does not follow the row before it (a row was deleted or changed)"
                )
            if (
                _digest(row.prev_hash, row.at, row.actor, row.org_id, row.action, row.object, row.detail)
                != row.hash
            ):
                problems.append(f"row {row.id}: its content was changed after it was written")
            prev, last_id = row.hash, row.id
    return count, problems, prev

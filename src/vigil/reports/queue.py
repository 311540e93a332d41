"""The work queue: the organisation's open reports and those shared with it, highest priority first,
each with the rules that set its priority. Reading the queue is audited (with the ids shown)."""

from __future__ import annotations

import json

from vigil.reports import repository as repo
from vigil.reports.accounts import Principal
from vigil.reports.errors import require
from vigil.store.audit import append
from vigil.store.db import Database


def open_reports(db: Database, principal: Principal, limit: int = 100) -> list[dict]:
    require(principal, "reports:read", "this token may not read reports (scope reports:read)")
    with db.engine.begin() as conn:
        rows = repo.queue_rows(conn, principal.org_id, limit)
        ids = {"ids": [r.id for r in rows]}
        append(conn, principal.email, principal.org_id, "queue.read", "queue", ids)
    return [
        {
            "id": r.id,
            "received_at": r.received_at.isoformat() + "Z",
            "priority": r.priority,
            "rules": json.loads(r.priority_rules),
            "completeness": r.completeness,
            "repeats": r.repeats,
            "linked_to": r.linked_to,
            "shared": r.org_id != principal.org_id,
        }
        for r in rows
    ]

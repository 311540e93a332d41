"""The work queue: the organisation's open reports and those shared with it, highest priority first,
each with the rules that set its priority. Reading the queue is audited (with the ids shown)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import cast, exists, func, select
from sqlalchemy.dialects.postgresql import JSONB

from vigil.reports import repository as repo
from vigil.reports.accounts import Principal
from vigil.reports.errors import require
from vigil.store.audit import append
from vigil.store.db import Database, utcnow
from vigil.store.models import Classification, Report


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


# -- the web UI's queue: filtered and paged -----------------------------------------------------------
STATUSES = ("new", "assessed", "repeat", "all")
CHANNELS = ("api", "public", "forward")
FIELD = re.compile(r"[a-z][a-z0-9_]{0,49}")


@dataclass(frozen=True)
class Filters:
    status: str = "new"
    label: str = ""  # `field=value` of a decision on the whole report by this organisation
    country: str = ""  # the report's jurisdiction (ISO 3166 alpha-2)
    source: str = ""  # the channel it came by: api | public | forward
    days: int = 0  # received in the last N days; 0: any time

    def problems(self, fields: dict) -> list[dict]:
        out = []
        if self.status not in STATUSES:
            out.append({"field": "status", "message": f"one of {', '.join(STATUSES)}"})
        if self.source and self.source not in CHANNELS:
            out.append({"field": "source", "message": f"one of {', '.join(CHANNELS)}"})
        if self.country and not re.fullmatch(r"[A-Z]{2}", self.country):
            out.append({"field": "country", "message": "a two-letter country code such as NL"})
        if self.label:
            name, _, value = self.label.partition("=")
            if name not in fields or value not in fields[name]["values"]:
                out.append({"field": "label", "message": "field=value of the classification schema"})
        if not 0 <= self.days <= 3650:
            out.append({"field": "days", "message": "0 to 3650"})
        return out


def _json_text(conn, column, key: str):
    """The text of `key` in a JSON text column, in this database's dialect (`key` is checked)."""
    if conn.dialect.name == "postgresql":
        return cast(column, JSONB)[key].astext
    return func.json_extract(column, f"$.{key}")


def filtered(
    db: Database, principal: Principal, filters: Filters, limit: int, offset: int
) -> tuple[list, int]:
    """(rows, how many match) of the organisation's reports, highest priority first; audited."""
    require(principal, "reports:read", "this token may not read reports (scope reports:read)")
    with db.engine.begin() as conn:
        where = [repo.visible(principal.org_id)]
        if filters.status != "all":
            where.append(Report.status == filters.status)
        if filters.source:
            where.append(Report.channel == filters.source)
        if filters.country:
            where.append(_json_text(conn, Report.body, "jurisdiction") == filters.country)
        if filters.days:
            where.append(Report.received_at >= utcnow() - timedelta(days=filters.days))
        if filters.label:
            name, _, value = filters.label.partition("=")
            if not FIELD.fullmatch(name):
                return [], 0
            where.append(
                exists().where(
                    Classification.report_id == Report.id,
                    Classification.org_id == principal.org_id,
                    Classification.file_id.is_(None),
                    _json_text(conn, Classification.labels, name) == value,
                )
            )
        total = conn.execute(select(func.count()).select_from(Report).where(*where)).scalar() or 0
        # the page's ids first (sorting 10,000 narrow rows), then their columns: SQLite computes the
        # selected expressions (a JSON extract of each body) before it sorts, for every row
        ids = list(
            conn.execute(
                select(Report.id)
                .where(*where)
                .order_by(Report.priority.desc(), Report.id)
                .limit(limit)
                .offset(offset)
            ).scalars()
        )
        found = conn.execute(
            select(
                Report.id, Report.received_at, Report.priority, Report.priority_rules, Report.completeness,
                Report.repeats, Report.linked_to, Report.org_id, Report.status, Report.channel,
                _json_text(conn, Report.body, "jurisdiction").label("jurisdiction"),
            ).where(Report.id.in_(ids))
        ).all() if ids else []  # fmt: skip
        by_id = {r.id: r for r in found}
        rows = [by_id[i] for i in ids]
        append(conn, principal.email, principal.org_id, "queue.read", "queue", {"ids": [r.id for r in rows]})
    return rows, total

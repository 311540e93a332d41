"""Reading one report: only one the caller's organisation owns or was shared (anything else is 404,
like a report that does not exist), with its files, the organisation's decisions and its links; the
read is audited in the same transaction."""

from __future__ import annotations

import json

from vigil.errors import NotFoundError
from vigil.reports import repository as repo
from vigil.reports.accounts import Principal
from vigil.reports.errors import require
from vigil.store.audit import append
from vigil.store.db import Database


def get_report(db: Database, principal: Principal, report_id: int) -> dict:
    require(principal, "reports:read", "this token may not read reports (scope reports:read)")
    with db.engine.begin() as conn:
        report = repo.report_row(conn, principal.org_id, report_id)
        if report is None:  # not there, or not this organisation's: the same answer
            raise NotFoundError(f"no report {report_id}")
        files = repo.file_rows(conn, report_id)
        decisions = repo.decisions(conn, principal.org_id, report_id)
        earlier, later = repo.linked(conn, principal.org_id, report_id)
        append(conn, principal.email, principal.org_id, "report.read", f"report:{report_id}")
    return _answer(report, files, decisions, earlier, later)


def _answer(report, files: list, decisions: list, earlier: list[int], later: list[int]) -> dict:
    position = {f.id: f.position for f in files}
    return {
        "id": report.id,
        "received_at": report.received_at.isoformat() + "Z",
        "channel": report.channel,
        "status": report.status,
        "report": json.loads(report.body),
        "completeness": {"score": report.completeness, "missing": json.loads(report.missing)},
        "priority": {"score": report.priority, "rules": json.loads(report.priority_rules)},
        "linked_to": earlier,
        "linked_from": later,
        "repeat_of": report.linked_to if report.status == "repeat" else None,
        "repeats": report.repeats,
        "files": [
            {
                "position": f.position,
                "matches": json.loads(f.matches),
                "prior": json.loads(f.prior) if f.prior else None,
            }
            for f in files
        ],
        "classifications": [
            {
                "file": position.get(d.file_id),
                "labels": json.loads(d.labels),
                "by": d.email,
                "at": d.created_at.isoformat() + "Z",
            }
            for d in decisions
        ],
    }

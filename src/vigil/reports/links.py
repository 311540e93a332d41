"""Linking two reports by hand: an analyst sees that two reports are about the same offender, victim
or site where intake found nothing in common (different URLs, no shared hash, no account named).

A link is stored as what intake links by, a key the two reports share (kind `link`, value
`LOW:HIGH`), so the report page, the read API and the priority rules see hand-made and found links
alike. Both reports must be the organisation's own: a shared report belongs to its owner's
investigation. Linking and unlinking are audited with who did it; linking twice is harmless."""

from __future__ import annotations

from sqlalchemy import delete, select

from vigil.errors import NotFoundError
from vigil.reports import repository as repo
from vigil.reports.accounts import Principal
from vigil.reports.errors import InvalidInput, require
from vigil.store.audit import append
from vigil.store.db import Database, insert_or
from vigil.store.models import ReportKey

KIND = "link"


def _value(a: int, b: int) -> str:
    return f"{min(a, b)}:{max(a, b)}"


def _check(conn, principal: Principal, report_id: int, other: int) -> None:
    if not repo.owns(conn, principal.org_id, report_id):
        raise NotFoundError(f"no report {report_id}")
    if other == report_id:
        raise InvalidInput([{"field": "/report", "message": "a report cannot be linked to itself"}])
    if not repo.owns(conn, principal.org_id, other):
        message = f"no report {other} of your organisation's own (shared reports are linked by their owner)"
        raise InvalidInput([{"field": "/report", "message": message}])


def link(db: Database, principal: Principal, report_id: int, other: int, reason: str | None = None) -> dict:
    """Link `report_id` and `other` (both ways). `reason` (≤ 500 characters) goes to the audit log."""
    require(principal, "reports:classify", "linking reports needs the scope reports:classify")
    with db.engine.begin() as conn:
        _check(conn, principal, report_id, other)
        value = _value(report_id, other)
        rows = [
            {"report_id": r, "org_id": principal.org_id, "kind": KIND, "value": value}
            for r in (report_id, other)
        ]
        there = select(ReportKey.report_id).where(ReportKey.kind == KIND, ReportKey.value == value)
        added = len(conn.execute(there).all()) < 2  # (rowcount is -1 for this insert on psycopg)
        if added:
            conn.execute(insert_or(conn, ReportKey).values(rows).on_conflict_do_nothing())
            detail = {"with": other, **({"reason": reason[:500]} if reason else {})}
            append(conn, principal.email, principal.org_id, "report.link", f"report:{report_id}", detail)
    return {"report": report_id, "linked_with": other, "new": added}


def unlink(db: Database, principal: Principal, report_id: int, other: int) -> dict:
    """Remove a link made by hand (links intake found stay: they are facts of the reports)."""
    require(principal, "reports:classify", "unlinking reports needs the scope reports:classify")
    with db.engine.begin() as conn:
        _check(conn, principal, report_id, other)
        gone = conn.execute(
            delete(ReportKey).where(
                ReportKey.kind == KIND, ReportKey.value == _value(report_id, other),
                ReportKey.report_id.in_((report_id, other)),
            )
        ).rowcount  # fmt: skip
        if not gone:
            raise InvalidInput(
                [{"field": "/report", "message": f"report {report_id} has no hand-made link to {other}"}]
            )
        append(
            conn, principal.email, principal.org_id, "report.unlink", f"report:{report_id}", {"with": other}
        )
    return {"report": report_id, "unlinked_from": other}


def for_page(db: Database, org_id: int, report_id: int) -> tuple[bool, list[int]]:
    """(whether the organisation owns the report, so may link it; the reports linked to it by hand,
    which the page offers to unlink)."""
    with db.engine.connect() as conn:
        values = conn.execute(
            select(ReportKey.value).where(
                ReportKey.report_id == report_id, ReportKey.org_id == org_id, ReportKey.kind == KIND
            )
        ).scalars()
        pairs = (tuple(int(n) for n in v.split(":")) for v in values)
        return repo.owns(conn, org_id, report_id), sorted(a if b == report_id else b for a, b in pairs)

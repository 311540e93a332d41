"""Sharing a report with another organisation: supervisors and admins of the owner only; audited."""

from __future__ import annotations

from vigil.errors import NotFoundError
from vigil.reports import repository as repo
from vigil.reports.accounts import Principal
from vigil.reports.errors import Forbidden, InvalidInput
from vigil.store.audit import append
from vigil.store.db import Database


def share(db: Database, principal: Principal, report_id: int, org_name: str) -> dict:
    if not principal.can("reports:share") or principal.role == "analyst":
        raise Forbidden("sharing reports needs a supervisor or admin (scope reports:share)")
    with db.engine.begin() as conn:
        if not repo.owns(conn, principal.org_id, report_id):
            raise NotFoundError(f"no report {report_id}")
        target = repo.org_id_by_name(conn, org_name)
        if target is None:
            raise InvalidInput([{"field": "/organisation", "message": f"no organisation named {org_name!r}"}])
        if target == principal.org_id:
            message = "the report is your organisation's own: share it with another organisation"
            raise InvalidInput([{"field": "/organisation", "message": message}])
        repo.add_share(conn, report_id, target)
        append(
            conn, principal.email, principal.org_id, "report.share", f"report:{report_id}", {"with": org_name}
        )
    return {"report": report_id, "shared_with": org_name}

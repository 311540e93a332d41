"""Recording a classification decision, per file or for the whole report, per the classification
schema; recorded with who and when, audited, and answered with the severity on each scale. A decision
on the whole report marks the owner's report assessed (it leaves the queue)."""

from __future__ import annotations

import json

from vigil.errors import NotFoundError
from vigil.reports import classification
from vigil.reports import repository as repo
from vigil.reports.accounts import Principal
from vigil.reports.errors import InvalidInput, require
from vigil.store.audit import append
from vigil.store.db import Database, utcnow


def classify(
    db: Database,
    principal: Principal,
    report_id: int,
    labels,
    file: int | None = None,
    extra: str | None = None,
) -> dict:
    """`extra`: the organisation's extension of the classification schema (a TOML file), if any."""
    require(principal, "reports:classify", "this token may not classify (scope reports:classify)")
    problems = classification.check(labels, extra)
    if problems:
        raise InvalidInput(problems, "the classification does not follow the schema")
    now = utcnow()
    with db.engine.begin() as conn:
        if not repo.can_read(conn, principal.org_id, report_id):
            raise NotFoundError(f"no report {report_id}")
        file_id = None
        if file is not None:
            file_id = repo.file_id(conn, report_id, file)
            if file_id is None:
                raise InvalidInput([{"field": "/file", "message": f"report {report_id} has no file {file}"}])
        row = {
            "report_id": report_id,
            "file_id": file_id,
            "user_id": principal.user_id,
            "org_id": principal.org_id,
            "labels": json.dumps(labels, sort_keys=True),
            "created_at": now,
        }
        repo.add_classification(conn, row, principal.org_id if file is None else None)
        detail = {"file": file, "labels": labels}
        append(conn, principal.email, principal.org_id, "report.classify", f"report:{report_id}", detail)
    return {
        "report": report_id,
        "file": file,
        "labels": labels,
        "scales": classification.mapped(labels, extra),
        "by": principal.email,
        "at": now.isoformat() + "Z",
    }

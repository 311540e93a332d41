"""A worker warms up before its first request (ReportService.warm: template checks compiled, set
indexes opened, intake's reads run once): that must leave the database exactly as it was — no
report, no audit row, no report id taken — and leave intake working. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.conftest import example


def _state(db) -> tuple:
    with db.engine.connect() as conn:
        reports = conn.execute(text("SELECT count(*), coalesce(max(id), 0) FROM reports")).one()
        audit = conn.execute(text("SELECT count(*) FROM audit_log")).scalar()
        taken = None
        if conn.dialect.name == "postgresql":  # ids handed out, used or not
            taken = conn.execute(text("SELECT last_value FROM reports_id_seq")).scalar()
    return tuple(reports), audit, taken


def test_warming_up_changes_nothing_and_intake_goes_on(app, client, make_org):
    org = make_org()
    service = app.state.service
    assert client.post("/v1/reports", json=example(0), headers=org.h()).status_code == 201
    before = _state(service.db)
    service.checker._sets = None  # as in a new worker
    service.warm()
    assert _state(service.db) == before
    assert service.checker._sets is not None  # the indexes are open
    after = client.post("/v1/reports", json=example(1), headers=org.h())
    assert after.status_code == 201 and after.json()["id"] > before[0][1]

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


def test_warming_up_does_not_wait_for_a_busy_database(app, client, db_url, make_org):
    """An import holding the write lock for minutes must not hold up a server's start: the warm-up
    gives up on the lock after WARM_LOCK_WAIT_MS (without it: 'database is locked' after SQLite's
    30 s busy timeout, or PostgreSQL's advisory lock awaited for as long as it is held)."""
    from sqlalchemy import create_engine

    from vigil.reports import intake
    from vigil.store import audit

    service = app.state.service
    url = db_url if "://" in db_url else f"sqlite:///{db_url}"
    other = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with other.connect() as holder:
        if holder.dialect.name == "sqlite":
            holder.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, as an import holds it
        else:
            holder.exec_driver_sql(f"SELECT pg_advisory_xact_lock({audit._LOCK})")  # the audit chain's
        before = _state(service.db)
        intake.warm(service.db, service.rules)  # returns (no exception, no 30 s wait for the lock)
        holder.rollback()
    other.dispose()
    assert _state(service.db) == before
    assert client.post("/v1/reports", json=example(0), headers=make_org().h()).status_code == 201

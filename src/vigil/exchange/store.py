"""The exchange's SQL, over a Connection in the caller's transaction: organisations as the network
sees them, the reports and classifications that leave, forwarding hops, feedback, received message
ids and the outbox. Nothing here decides or checks permissions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from vigil.store.db import utcnow
from vigil.store.models import (
    Classification,
    ExchangeHop,
    Feedback,
    InboxMessage,
    Organisation,
    OutboxMessage,
    Report,
    ReportFile,
)


@dataclass(frozen=True)
class Org:
    id: int
    name: str
    sector: str
    country: str
    peer_id: int | None  # None: this instance's own


def _org(row) -> Org | None:
    return Org(row.id, row.name, row.sector, row.country, row.peer_id) if row else None


_ORG = select(
    Organisation.id, Organisation.name, Organisation.sector, Organisation.country, Organisation.peer_id
)


def org_by_name(conn: Connection, name: str) -> Org | None:
    return _org(conn.execute(_ORG.where(Organisation.name == name)).first())


def org_by_id(conn: Connection, org_id: int) -> Org | None:
    return _org(conn.execute(_ORG.where(Organisation.id == org_id)).first())


def org_names(conn: Connection, org_ids) -> dict[int, str]:
    """Names of the organisations (one that no longer exists: `organisation N`), for answers."""
    wanted = set(org_ids)
    found = dict(
        conn.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))).all()
    )
    return {i: found.get(i, f"organisation {i}") for i in wanted}


def orgs_in(conn: Connection, sector: str, country: str) -> list[Org]:
    rows = conn.execute(_ORG.where(Organisation.sector == sector, Organisation.country == country))
    return [_org(r) for r in rows]


def report(conn: Connection, org_id: int, report_id: int):
    """The organisation's own report (a forwarded copy is the receiver's own), else None."""
    return conn.execute(
        select(Report.id, Report.body).where(Report.id == report_id, Report.org_id == org_id)
    ).first()


def files(conn: Connection, report_id: int) -> list:
    return conn.execute(
        select(ReportFile.id, ReportFile.position, ReportFile.prior)
        .where(ReportFile.report_id == report_id)
        .order_by(ReportFile.position)
    ).all()


def latest_labels(conn: Connection, org_id: int, report_id: int) -> tuple[dict | None, dict[int, dict]]:
    """The organisation's latest classification of the whole report, and of each file (by file id)."""
    rows = conn.execute(
        select(Classification.file_id, Classification.labels)
        .where(Classification.report_id == report_id, Classification.org_id == org_id)
        .order_by(Classification.id)
    ).all()
    whole, per_file = None, {}
    for file_id, labels in rows:
        if file_id is None:
            whole = json.loads(labels)
        else:
            per_file[file_id] = json.loads(labels)
    return whole, per_file


def hops(conn: Connection, report_id: int, direction: str | None = None) -> list:
    query = select(ExchangeHop.__table__).where(ExchangeHop.report_id == report_id).order_by(ExchangeHop.id)
    if direction:
        query = query.where(ExchangeHop.direction == direction)
    return conn.execute(query).all()


def hop_by_message(conn: Connection, message_id: str, direction: str):
    query = select(ExchangeHop.__table__).where(
        ExchangeHop.message_id == message_id, ExchangeHop.direction == direction
    )
    return conn.execute(query).first()


def add_hop(conn: Connection, **row) -> None:
    conn.execute(insert(ExchangeHop).values(**{"at": utcnow(), **row}))


def add_feedback(conn: Connection, **row) -> None:
    conn.execute(insert(Feedback).values(**row, at=utcnow()))


def feedback_of(conn: Connection, report_id: int) -> list:
    return conn.execute(
        select(Feedback.__table__).where(Feedback.report_id == report_id).order_by(Feedback.id)
    ).all()


def received(conn: Connection, message_id: str) -> dict | None:
    """What an already applied message made (its answer), else None."""
    row = conn.execute(select(InboxMessage.result).where(InboxMessage.message_id == message_id)).first()
    return None if row is None else json.loads(row.result or "{}")


def mark_received(conn: Connection, message_id: str, peer_id: int | None, kind: str, result: dict) -> None:
    conn.execute(
        insert(InboxMessage).values(
            message_id=message_id, peer_id=peer_id, kind=kind, received_at=utcnow(), result=json.dumps(result)
        )
    )


def enqueue(conn: Connection, peer_id: int, message: dict, now: datetime | None = None) -> None:
    now = now or utcnow()
    conn.execute(
        insert(OutboxMessage).values(
            message_id=message["id"],
            peer_id=peer_id,
            body=json.dumps(message, separators=(",", ":")),
            created_at=now,
            attempts=0,
            next_at=now,
        )
    )

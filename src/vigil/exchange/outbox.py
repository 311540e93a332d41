"""Delivering the outbox: messages for organisations at peer instances, written in the same
transaction as what they report (a forward, a feedback), so nothing is sent that did not happen and
nothing that happened is lost. Each peer's messages go in order (a feedback never overtakes the
report it answers), signed (exchange.signing) to the peer's `/federation/inbox`; a failure stops that
peer's queue and is retried with exponential back-off (2 s doubling to 10 min), so an instance that
was down catches up when it is back. The receiver applies a message id once: a message delivered but
not acknowledged (a timeout) is applied once however often it is resent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from vigil.exchange import peers as peer_book
from vigil.store.db import Database, utcnow
from vigil.store.models import OutboxMessage, Peer

INBOX_PATH = "/federation/inbox"
MAX_BACKOFF = 600.0
CLAIM = timedelta(seconds=60)  # a message being sent is not picked again (by another worker) for this long
BATCH = 200  # messages read per peer per round


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF, 2.0 ** max(attempts, 1)))


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # peer: last error


def deliver(db: Database, client=None, now: datetime | None = None, limit: int | None = None) -> Delivery:
    """Send what is due to every peer, in order, until each peer's queue is empty or fails.
    `client`: an httpx.Client (tests pass one); `limit`: stop after this many messages."""
    import httpx

    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0), follow_redirects=False)
    signer = peer_book.signer(db)
    result = Delivery()
    try:
        with db.engine.connect() as conn:
            peers = conn.execute(select(Peer.id, Peer.name, Peer.url)).all()
        for peer in peers:
            _deliver_peer(db, client, signer, peer, result, now, limit)
            if limit is not None and result.sent >= limit:
                break
    finally:
        if own:
            client.close()
    return result


def _deliver_peer(db, client, signer, peer, result: Delivery, now, limit) -> None:
    while True:
        moment = now or utcnow()
        with db.engine.connect() as conn:
            due = conn.execute(
                select(OutboxMessage.id, OutboxMessage.body, OutboxMessage.attempts, OutboxMessage.next_at)
                .where(OutboxMessage.peer_id == peer.id, OutboxMessage.delivered_at.is_(None))
                .order_by(OutboxMessage.id)
                .limit(BATCH)
            ).all()
        if not due:
            return
        for row in due:
            if row.next_at > moment or not _claim(db, row, moment):
                return  # the oldest is not due (or another worker has it): keep the order
            error = _send(client, signer, peer.url + INBOX_PATH, row.body.encode())
            _record(db, peer.id, row, error, moment)
            if error:
                result.failed += 1
                result.errors[peer.name] = error
                return
            result.sent += 1
            if limit is not None and result.sent >= limit:
                return


def _claim(db: Database, row, now: datetime) -> bool:
    """Take the message for CLAIM (compare-and-set on next_at), so two workers never send it at once."""
    with db.engine.begin() as conn:
        taken = conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.next_at == row.next_at)
            .values(next_at=now + CLAIM)
        ).rowcount
    return taken == 1


def _send(client, signer, url: str, body: bytes) -> str | None:
    import httpx

    headers = signer.headers("POST", url, body)
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    if response.status_code == 200:
        return None
    try:
        detail = json.loads(response.content[:4000]).get("detail", "")
    except (ValueError, AttributeError):
        detail = ""
    return f"HTTP {response.status_code} {str(detail)[:300]}".strip()


def _record(db: Database, peer_id: int, row, error: str | None, now: datetime) -> None:
    with db.engine.begin() as conn:
        if error is None:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(delivered_at=utcnow(), attempts=row.attempts + 1, last_error=None)
            )
            conn.execute(
                update(Peer)
                .where(Peer.id == peer_id)
                .values(last_attempt_at=now, last_success_at=now, last_error=None)
            )
        else:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(attempts=row.attempts + 1, last_error=error, next_at=now + backoff(row.attempts + 1))
            )
            conn.execute(update(Peer).where(Peer.id == peer_id).values(last_attempt_at=now, last_error=error))

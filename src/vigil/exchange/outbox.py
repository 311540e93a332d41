"""Delivering the outbox: messages for organisations at peer instances, written in the same
transaction as what they report (a forward, a feedback), so nothing is sent that did not happen and
nothing that happened is lost. Each peer's messages go in order (a feedback never overtakes the
report it answers), signed (exchange.signing) to the peer's `/federation/inbox`; a failure stops that
peer's queue and is retried with exponential back-off (2 s doubling to 10 min), so an instance that
was down catches up when it is back. Messages go up to SEND_BATCH per request (the peer applies them
in one transaction, each in its own savepoint), so a backlog of ten thousand is a hundred requests; a
message the peer refuses for good (403, 422) is kept with the reason and no longer holds back the
rest. The receiver applies a message id once: a message delivered but not acknowledged (a timeout)
is applied once however often it is resent."""

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
SEND_BATCH = 100  # messages per request
MAX_BATCH_BYTES = 8 * 1024 * 1024  # ... and about this many bytes (the peer's body limit is 16 MiB)
MAX_ANSWER = 4 * 1024 * 1024


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF, 2.0 ** max(attempts, 1)))


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0  # to be retried
    rejected: int = 0  # refused by the peer for good (kept in the outbox with the reason)
    errors: dict[str, str] = field(default_factory=dict)  # peer: last error


def deliver(
    db: Database, client=None, now: datetime | None = None, limit: int | None = None, force: bool = False
) -> Delivery:
    """Send what is due to every peer, in order, until each peer's queue is empty or fails.
    `client`: an httpx.Client (tests pass one); `limit`: stop after this many messages; `force`:
    messages waiting out their back-off go too (an operator's `vigil exchange sync`)."""
    import httpx

    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0), follow_redirects=False)
    signer = peer_book.signer(db)
    result = Delivery()
    try:
        with db.engine.connect() as conn:
            peers = conn.execute(select(Peer.id, Peer.name, Peer.url)).all()
        for peer in peers:
            _deliver_peer(db, client, signer, peer, result, now, limit, force)
            if limit is not None and result.sent >= limit:
                break
    finally:
        if own:
            client.close()
    return result


def _deliver_peer(db, client, signer, peer, result: Delivery, now, limit, force: bool = False) -> None:
    while True:
        moment = now or utcnow()
        most = limit - result.sent if limit is not None else SEND_BATCH
        batch = _due(db, peer.id, moment, datetime.max if force else moment, most)
        if not batch:
            return
        url = peer.url + INBOX_PATH
        body = b'{"messages":[' + b",".join(row.body.encode() for row in batch) + b"]}"
        outcome = _send(client, signer, url, body)
        _record(db, peer.id, batch, outcome, moment)
        if isinstance(outcome, str):
            result.failed += len(batch)
            result.errors[peer.name] = outcome
            return
        for answer in outcome:
            if answer.get("status") == 200:
                result.sent += 1
            else:
                result.rejected += 1
                result.errors[peer.name] = f"message refused: {str(answer.get('detail'))[:300]}"
        if limit is not None and result.sent >= limit:
            return


def _due(db: Database, peer_id: int, now: datetime, cutoff: datetime, most: int) -> list:
    """The peer's oldest waiting messages, as long as each is due by `cutoff` (order is kept: a
    message waiting for its retry holds back those after it), at most `most` and about
    MAX_BATCH_BYTES; claimed until `now` + CLAIM so that two workers never send them at once. Empty if
    none is due or another worker has them."""
    with db.engine.begin() as conn:
        rows = conn.execute(
            select(OutboxMessage.id, OutboxMessage.body, OutboxMessage.attempts, OutboxMessage.next_at)
            .where(
                OutboxMessage.peer_id == peer_id,
                OutboxMessage.delivered_at.is_(None),
                OutboxMessage.rejected_at.is_(None),
            )
            .order_by(OutboxMessage.id)
            .limit(max(1, min(most, SEND_BATCH)))
        ).all()
        batch, size = [], 0
        for row in rows:
            if row.next_at > cutoff or (batch and size + len(row.body) > MAX_BATCH_BYTES):
                break
            batch.append(row)
            size += len(row.body)
        if not batch:
            return []
        taken = conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in batch]), OutboxMessage.next_at <= cutoff)
            .values(next_at=now + CLAIM)
        ).rowcount
        if taken != len(batch):
            conn.rollback()
            return []
    return batch


def _send(client, signer, url: str, body: bytes) -> list[dict] | str:
    """Each message's answer ({"message", "status", ...}), or why the request as a whole failed."""
    import httpx

    headers = signer.headers("POST", url, body)
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    try:
        answer = json.loads(response.content[:MAX_ANSWER])
    except ValueError:
        answer = {}
    if response.status_code == 200 and isinstance(answer, dict) and isinstance(answer.get("results"), list):
        return answer["results"]
    detail = answer.get("detail", "") if isinstance(answer, dict) else ""
    return f"HTTP {response.status_code} {str(detail)[:300]}".strip()


def _record(db: Database, peer_id: int, batch: list, outcome: list[dict] | str, now: datetime) -> None:
    """What became of each message: delivered, refused for good (kept, with the reason: a message the
    peer will never take must not hold back the rest), or to be retried after its back-off."""
    with db.engine.begin() as conn:
        if isinstance(outcome, str):
            for row in batch:
                conn.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id)
                    .values(
                        attempts=row.attempts + 1, last_error=outcome, next_at=now + backoff(row.attempts + 1)
                    )
                )
            conn.execute(
                update(Peer).where(Peer.id == peer_id).values(last_attempt_at=now, last_error=outcome)
            )
            return
        answers = {a.get("message"): a for a in outcome if isinstance(a, dict)}
        delivered, errors = [], None
        for row in batch:
            answer = answers.get(json.loads(row.body)["id"], {"status": 0, "detail": "no answer for it"})
            if answer.get("status") == 200:
                delivered.append(row.id)
                continue
            errors = f"HTTP {answer.get('status')} {str(answer.get('detail'))[:300]}"
            final = answer.get("status") in (403, 422)
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    attempts=row.attempts + 1,
                    last_error=errors,
                    rejected_at=now if final else None,
                    next_at=now if final else now + backoff(row.attempts + 1),
                )
            )
        if delivered:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(delivered))
                .values(delivered_at=utcnow(), attempts=OutboxMessage.attempts + 1, last_error=None)
            )
        conn.execute(
            update(Peer)
            .where(Peer.id == peer_id)
            .values(last_attempt_at=now, last_success_at=now, last_error=errors)
        )

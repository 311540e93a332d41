"""The federation inbox: a signed request from a peer instance (exchange.signing) carrying one
message (exchange.messages) for an organisation here. Every check comes before any change: the
signature against the pinned keys, the nonce not seen before (kept until the signature expires),
the message's format, and that the peer speaks for the organisation the message says it is from.
A message id applied before gets its first answer again (delivery is idempotent)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from vigil.exchange import messages, peers, receive, signing
from vigil.reports import repository as repo
from vigil.store import audit
from vigil.store.db import Database, utcnow
from vigil.store.models import Nonce


class Rejected(Exception):
    """The request changes nothing; `status` is the HTTP status to answer (401, 403, 422)."""

    def __init__(self, status: int, message: str, problems: list | None = None):
        self.status, self.problems = status, problems or []
        super().__init__(message)


def _verified(
    db: Database, method: str, url: str, headers: dict, body: bytes
) -> tuple[signing.Verified, int]:
    book = peers.keys(db)
    try:
        verified = signing.verify(method, url, headers, body, book["keys"])
    except signing.BadSignature as exc:
        raise Rejected(401, str(exc)) from None
    return verified, book["peers"][verified.key_id]


def peer_of(db: Database, method: str, url: str, headers: dict, body: bytes = b"") -> int:
    """The peer that signed a request that changes nothing (a feed read); its nonce is kept at once."""
    verified, peer_id = _verified(db, method, url, headers, body)
    with db.engine.begin() as conn:
        _use_nonce(conn, verified.nonce, verified.expires)
    return peer_id


MAX_MESSAGES = 1000  # per request


def accept(service, method: str, url: str, headers: dict, body: bytes) -> dict:
    """Verify and apply one request: a message, or `{"messages": [...]}` applied in one transaction
    (each in its own savepoint: one refused message does not undo the others). Answers each
    message's outcome, or raises Rejected for the request as a whole (nothing applied)."""
    verified, peer_id = _verified(service.db, method, url, headers, body)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise Rejected(422, "the body is not JSON") from None
    batch = isinstance(data, dict) and set(data) == {"messages"}
    items = data["messages"] if batch else [data]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_MESSAGES:
        raise Rejected(
            422, f"messages: 1 to {MAX_MESSAGES} messages", [{"field": "/messages", "message": "1 to 1000"}]
        )
    with repo.intake_transaction(service.db) as conn:
        audit.lock_chain(conn)
        _use_nonce(conn, verified.nonce, verified.expires)
        results = [_apply_one(conn, service, item, peer_id) for item in items]
    if not batch:
        one = results[0]
        if one["status"] != 200:
            raise Rejected(one["status"], one["detail"], one.get("errors"))
        return {"message": one["message"], "result": one["result"]}
    return {"results": results}


def _apply_one(conn, service, item, peer_id: int) -> dict:
    message_id = item.get("id") if isinstance(item, dict) else None
    try:
        messages.parse(item)
        with conn.begin_nested():
            result = receive.apply(conn, service, item, peer_id)
        return {"message": message_id, "status": 200, "result": result}
    except receive.Refused as exc:
        return {"message": message_id, "status": 403, "detail": str(exc)}
    except messages.BadMessage as exc:
        return {"message": message_id, "status": 422, "detail": str(exc), "errors": exc.problems}


def _use_nonce(conn, nonce: str, expires: datetime) -> None:
    """Remember the nonce until its signature expires; a nonce seen before is a replay. (The
    nonce's row commits with the message it carried: a request that changed nothing can be retried
    with the same signature, which changes nothing either.)"""
    conn.execute(delete(Nonce).where(Nonce.expires_at < utcnow()))
    try:
        with conn.begin_nested():
            conn.execute(insert(Nonce).values(nonce=nonce[:100], expires_at=expires))
    except IntegrityError:
        raise Rejected(401, "this signed request was received before (a replay)") from None


def forget_nonces(db: Database) -> int:
    with db.engine.begin() as conn:
        return conn.execute(delete(Nonce).where(Nonce.expires_at < utcnow())).rowcount

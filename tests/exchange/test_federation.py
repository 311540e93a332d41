"""Two instances, each with its own database, exchanging signed messages: a forwarded report crosses
to the peer's queue and feedback comes back, through the outbox and the federation inbox; every kind
of bad request is refused with 401/403/413/422 and changes nothing; a peer that was down catches up
with nothing lost or duplicated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import example
from tests.exchange.conftest import B_URL
from vigil.api.app import create_app
from vigil.exchange import messages, outbox, peers, signing
from vigil.store import audit, open_database
from vigil.store.models import InboxMessage, Report


def _forwarded(a) -> int:
    report_id = a.client.post("/v1/reports", json=example(0), headers=a.headers).json()["id"]
    labels = {"labels": {"assessment": "baseline"}}
    assert (
        a.client.post(f"/v1/reports/{report_id}/classifications", json=labels, headers=a.headers).status_code
        == 201
    )
    sent = a.client.post(f"/v1/reports/{report_id}/forward", json={"to": "police-b"}, headers=a.headers)
    assert sent.status_code == 201, sent.text
    assert sent.json()["delivered"] == {"queued": True}
    return report_id


def test_report_crosses_and_feedback_comes_back(pair):
    a, b = pair
    report_id = _forwarded(a)
    assert outbox.deliver(a.db, client=b.client).sent == 1
    queue = b.client.get("/v1/queue", headers=b.headers).json()["reports"]
    assert len(queue) == 1
    at_b = queue[0]["id"]
    seen = b.client.get(f"/v1/reports/{at_b}/exchange", headers=b.headers).json()["received"]
    assert seen["from"] == "hotline-a" and seen["classification"]["report"] == {"assessment": "baseline"}
    given = b.client.post(
        f"/v1/reports/{at_b}/feedback", json={"outcome": "victim_identified"}, headers=b.headers
    )
    assert given.status_code == 201, given.text
    assert outbox.deliver(b.db, client=a.client).sent == 1
    feedback = a.client.get(f"/v1/reports/{report_id}/exchange", headers=a.headers).json()["feedback"]
    assert [(f["from"], f["outcome"]) for f in feedback] == [("police-b", "victim_identified")]
    for side in (a, b):
        assert audit.verify(side.db)[1] == []


def test_a_peer_that_was_down_catches_up_without_loss_or_duplicates(pair, tmp_path):
    a, b = pair
    ids = [_forwarded(a) for _ in range(5)]
    down = TestClient(
        create_app(str(tmp_path / "elsewhere.db")), base_url=B_URL
    )  # not B: B's key is not there
    failed = outbox.deliver(a.db, client=down)
    assert failed.sent == 0 and failed.failed == 5  # one request for the five, refused: all kept
    assert peers.list_peers(a.db)[0]["pending"] == 5
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    assert outbox.deliver(a.db, client=b.client, now=later).sent == 5
    assert outbox.deliver(a.db, client=b.client, now=later).sent == 0
    assert b.count(Report) == len(ids)
    # a message delivered again (its answer was lost) is applied once
    with a.db.engine.connect() as conn:
        body = conn.exec_driver_sql("SELECT body FROM outbox ORDER BY id LIMIT 1").scalar()
    again = _post(b, peers.signer(a.db), body.encode())
    assert again.status_code == 200 and b.count(Report) == len(ids)


def _post(b, signer, body: bytes, headers: dict | None = None, now=None):
    url = B_URL + "/federation/inbox"
    signed = signer.headers("POST", url, body, now=now)
    return b.client.post("/federation/inbox", content=body, headers={**signed, **(headers or {})})


def _message(sender="hotline-a", to="police-b", kind="report", body=None) -> bytes:
    report = example(0)
    content = body or {"report": report, "files": [{"position": 0}], "rule": "by hand", "by": "x@y"}
    return json.dumps(messages.new(kind, sender, to, content)).encode()


def _unchanged(b, before):
    assert (b.count(Report), b.count(InboxMessage)) == before


def test_bad_requests_change_nothing(pair, tmp_path):
    a, b = pair
    signer = peers.signer(a.db)
    before = (b.count(Report), b.count(InboxMessage))
    body = _message()
    unsigned = b.client.post("/federation/inbox", content=body)
    assert unsigned.status_code == 401 and unsigned.headers["content-type"] == "application/problem+json"
    headers = signer.headers("POST", B_URL + "/federation/inbox", body)
    tampered = b.client.post(
        "/federation/inbox", content=body.replace(b"hotline-a", b"hotline-x"), headers=headers
    )
    assert tampered.status_code == 401
    stranger = signing.Signer(signing.new_private_key_pem())
    assert _post(b, stranger, body).status_code == 401  # a key nobody pinned
    old = datetime.now(UTC) - timedelta(minutes=10)
    assert _post(b, signer, body, now=old).status_code == 401  # expired
    wrong_target = signer.headers("POST", "http://elsewhere.test/federation/inbox", body)
    assert b.client.post("/federation/inbox", content=body, headers=wrong_target).status_code == 401
    _unchanged(b, before)
    as_other = _post(b, signer, _message(sender="police-b", to="police-b"))
    assert as_other.status_code == 403  # A's key speaking for B's own organisation
    assert _post(b, signer, _message(to="nobody")).status_code == 403
    broken = _post(b, signer, b'{"v": 1, "id": "x"}')
    assert broken.status_code == 422 and broken.json()["errors"]
    not_a_report = _post(
        b, signer, _message(body={"report": {"files": "x"}, "files": [], "rule": "r", "by": "x"})
    )
    assert not_a_report.status_code == 422
    _unchanged(b, before)
    huge = b"{" + b" " * (17 * 1024 * 1024) + b"}"
    assert _post(b, signer, huge).status_code == 413
    _unchanged(b, before)


def test_a_replayed_request_is_refused(pair):
    a, b = pair
    body = _message()
    headers = peers.signer(a.db).headers("POST", B_URL + "/federation/inbox", body)
    first = b.client.post("/federation/inbox", content=body, headers=headers)
    assert first.status_code == 200, first.text
    before = (b.count(Report), b.count(InboxMessage))
    replay = b.client.post("/federation/inbox", content=body, headers=headers)
    assert replay.status_code == 401 and "replay" in replay.json()["detail"]
    _unchanged(b, before)


def test_peer_add_refuses_bad_keys_and_urls(tmp_path):
    from vigil.errors import VigilError

    db = open_database(str(tmp_path / "c.db"))
    key = peers.public_key(db)
    with pytest.raises(VigilError, match="Ed25519 public key"):
        peers.add_peer(db, "x", "https://x.test", "not-a-key", "x-org", "hotline", "NL")
    with pytest.raises(VigilError, match="base URL"):
        peers.add_peer(db, "x", "ftp://x.test", key, "x-org", "hotline", "NL")
    with pytest.raises(VigilError, match="give --sector"):
        peers.add_peer(db, "x", "https://x.test", key, "x-org")
    for url in ("https://user:pw@x.test", "https://x.test/?q=1", "https://x.test/#f"):
        with pytest.raises(VigilError, match="no user, password, query or fragment"):
            peers.add_peer(db, "x", url, key, "x-org", "hotline", "NL")
    with pytest.raises(VigilError, match="--sector must be one of"):
        peers.add_peer(db, "x", "https://x.test", key, "x-org", "bakery", "NL")
    # a local organisation (it has users here) is never handed to a peer: its reports would leave
    from vigil.reports.accounts import Accounts

    Accounts(db).create_org("our-desk", "hotline", "NL")
    Accounts(db).create_user("me@our-desk.example", "our-desk", "analyst", "a long enough password")
    with pytest.raises(VigilError, match="this instance's own"):
        peers.add_peer(db, "x", "https://x.test", key, "our-desk")
    assert peers.list_peers(db) == []


def test_a_message_refused_for_good_is_kept_and_does_not_hold_back_the_rest(pair):
    from sqlalchemy import select

    from vigil.exchange import rulebook
    from vigil.store.models import OutboxMessage

    a, b = pair
    # A believes B's instance also speaks for "ghost-unit"; B has no such organisation
    with a.db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO organisations (name, sector, country, created_at, peer_id) "
            "SELECT 'ghost-unit', 'law_enforcement', 'NL', created_at, id FROM peers WHERE name = 'b'"
        )
    rulebook.add_rule(a.db, "hotline-a", "assessment=*", "allow", None, "ghost-unit")
    ghost = a.client.post("/v1/reports", json=example(1), headers=a.headers).json()["id"]
    labels = {"labels": {"assessment": "baseline"}}
    a.client.post(f"/v1/reports/{ghost}/classifications", json=labels, headers=a.headers)
    assert (
        a.client.post(
            f"/v1/reports/{ghost}/forward", json={"to": "ghost-unit"}, headers=a.headers
        ).status_code
        == 201
    )
    real = _forwarded(a)
    delivered = outbox.deliver(a.db, client=b.client)
    assert (delivered.sent, delivered.rejected) == (1, 1)
    assert b.count(Report) == 1 and peers.list_peers(a.db)[0]["pending"] == 0
    with a.db.engine.connect() as conn:
        kept = conn.execute(
            select(OutboxMessage.rejected_at, OutboxMessage.last_error).order_by(OutboxMessage.id)
        ).all()
    assert kept[0].rejected_at is not None and "ghost-unit" in kept[0].last_error
    assert kept[1].rejected_at is None and real


def test_what_a_peer_says_is_checked_like_local_input(pair):
    a, b = pair
    signer = peers.signer(a.db)
    before = (b.count(Report), b.count(InboxMessage))
    report = example(0)
    base = {"report": report, "files": [{"position": 0}], "rule": "by hand", "by": "x@y"}
    bad_label = _post(b, signer, _message(body={**base, "labels": {"assessment": "bogus"}}))
    assert bad_label.status_code == 422 and "/body/labels/assessment" in bad_label.text
    hop = {"from": "hotline-a", "to": "police-b", "at": "zzz", "rule": "r", "by": "x", "files": [0]}
    bad_time = _post(b, signer, _message(body={**base, "history": [hop]}))
    assert bad_time.status_code == 422
    twice = _post(b, signer, _message(body={**base, "files": [{"position": 0}, {"position": 0}]}))
    assert twice.status_code == 422
    control = _post(b, signer, _message(sender="hotline-\u001b[31ma"))
    assert control.status_code == 422
    opinion = {
        "feed": "police-b",
        "items": [{"signal": "bogus", "value": "ab" * 16, "opinion": "negative"}],
        "by": "x",
    }
    assert _post(b, signer, _message(kind="opinion", body=opinion)).status_code == 422
    _unchanged(b, before)
    unsigned_big = b.client.post("/federation/inbox", content=b"{" + b" " * 1_000_000 + b"}")
    assert unsigned_big.status_code == 413  # no signature header: the anonymous body limit


def test_sync_sends_what_waits_out_its_back_off(pair, tmp_path):
    a, b = pair
    _forwarded(a)
    down = TestClient(create_app(str(tmp_path / "elsewhere.db")), base_url=B_URL)
    assert outbox.deliver(a.db, client=down).failed == 1  # now waiting out its back-off
    assert outbox.deliver(a.db, client=b.client).sent == 0
    assert outbox.deliver(a.db, client=b.client, force=True).sent == 1

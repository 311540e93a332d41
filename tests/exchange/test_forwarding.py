"""Forwarding, sharing rules, routes and feedback between organisations of one instance, through the
API as analysts use it: what a rule denies never arrives, the receiver gets the sender's labels and
the whole chain, feedback comes back, and both sides' actions are in the audit log."""

from __future__ import annotations

import pytest

from tests.api.conftest import database, example
from vigil.exchange import rulebook
from vigil.store import audit

BASELINE = {"assessment": "baseline", "age_band": "prepubescent"}


def _report(client, org, body) -> int:
    response = client.post("/v1/reports", json=body, headers=org.h())
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _classify(client, org, report_id, labels, file=None):
    payload = {"labels": labels} if file is None else {"labels": labels, "file": file}
    response = client.post(f"/v1/reports/{report_id}/classifications", json=payload, headers=org.h())
    assert response.status_code == 201, response.text
    return response.json()


def _forward(client, org, report_id, to, **extra):
    return client.post(
        f"/v1/reports/{report_id}/forward", json={"to": to, **extra}, headers=org.h("supervisor")
    )


def test_nothing_leaves_without_a_rule_and_deny_wins(client, make_org, db_url):
    a, b = make_org(), make_org(sector="law_enforcement")
    db = database(db_url)
    report_id = _report(client, a, example(0))
    _classify(client, a, report_id, BASELINE)
    refused = _forward(client, a, report_id, b.name)
    assert refused.status_code == 403
    assert "no rule allows it" in refused.json()["detail"]
    rulebook.add_rule(db, a.name, "assessment=baseline", "allow", "law_enforcement", None)
    rulebook.add_rule(db, a.name, "age_band=prepubescent", "deny", None, b.name)
    denied = _forward(client, a, report_id, b.name)
    assert denied.status_code == 403 and "deny age_band=prepubescent" in denied.json()["detail"]
    assert client.get("/v1/queue", headers=b.h()).json()["reports"] == []
    denials = [e for e in _audit(db) if e.action == "exchange.deny" and e.object == f"report:{report_id}"]
    assert len(denials) == 2  # refusals are audited, not only successes


def test_forwarded_report_lands_in_the_receivers_queue_with_labels_chain_and_feedback(
    client, make_org, db_url
):
    a, b, c = make_org(), make_org(sector="law_enforcement"), make_org(sector="hotline", country="DE")
    db = database(db_url)
    rulebook.add_rule(db, a.name, "assessment=*", "allow", "law_enforcement", None)
    rulebook.add_rule(db, b.name, "assessment=baseline", "allow", None, c.name)
    rulebook.add_rule(db, b.name, "assessment=baseline", "allow", None, a.name)  # feedback goes back to A
    body = example(0)
    report_id = _report(client, a, body)
    _classify(client, a, report_id, {"assessment": "baseline"}, file=0)
    _classify(client, a, report_id, BASELINE)
    sent = _forward(client, a, report_id, b.name)
    assert sent.status_code == 201, sent.text
    received_id = sent.json()["delivered"]["report"]
    queue = client.get("/v1/queue", headers=b.h()).json()["reports"]
    assert [r["id"] for r in queue] == [received_id]
    at_b = client.get(f"/v1/reports/{received_id}", headers=b.h()).json()
    assert at_b["report"]["files"] == body["files"] and at_b["channel"] == "forward"
    exchange_b = client.get(f"/v1/reports/{received_id}/exchange", headers=b.h()).json()
    assert exchange_b["received"]["from"] == a.name
    assert exchange_b["received"]["classification"]["report"] == BASELINE
    assert exchange_b["received"]["classification"]["files"][0]["labels"] == {"assessment": "baseline"}
    # B has not classified it: its own rules, which need a label, let nothing go on
    assert _forward(client, b, received_id, c.name).status_code == 403
    _classify(client, b, received_id, {"assessment": "baseline"})
    onward = _forward(client, b, received_id, c.name)
    assert onward.status_code == 201, onward.text
    at_c = onward.json()["delivered"]["report"]
    chain = client.get(f"/v1/reports/{at_c}/exchange", headers=c.h()).json()["received"]["chain"]
    assert [(h["from"], h["to"]) for h in chain] == [(a.name, b.name), (b.name, c.name)]
    # A cannot read what B made of it, nor C's copy
    assert client.get(f"/v1/reports/{received_id}", headers=a.h()).status_code == 404
    assert client.get(f"/v1/reports/{at_c}/exchange", headers=a.h()).status_code == 404
    given = client.post(f"/v1/reports/{received_id}/feedback", json={"outcome": "case_opened"}, headers=b.h())
    assert given.status_code == 201, given.text
    feedback = client.get(f"/v1/reports/{report_id}/exchange", headers=a.h()).json()["feedback"]
    assert [(f["from"], f["outcome"]) for f in feedback] == [(b.name, "case_opened")]
    assert audit.verify(db)[1] == []
    actions = {(e.action, e.org_id) for e in _audit(db)}
    assert {"exchange.forward", "exchange.receive", "exchange.feedback", "exchange.feedback-received"} <= {
        action for action, _ in actions
    }


def test_a_denied_file_is_withheld_and_named(client, make_org, db_url):
    a, b = make_org(), make_org(sector="law_enforcement")
    db = database(db_url)
    rulebook.add_rule(db, a.name, "assessment=*", "allow", "law_enforcement", None)
    rulebook.add_rule(db, a.name, "ai_generated=yes", "deny", "law_enforcement", None)
    body = example(0)
    body = {**body, "files": [body["files"][0], {"hashes": {"md5": "0" * 31 + "1"}}]}
    report_id = _report(client, a, body)
    _classify(client, a, report_id, {"assessment": "baseline"})
    _classify(client, a, report_id, {"assessment": "baseline", "ai_generated": "yes"}, file=1)
    sent = _forward(client, a, report_id, b.name).json()
    assert sent["files"] == [0] and sent["withheld"][0]["file"] == 1
    received = client.get(f"/v1/reports/{sent['delivered']['report']}", headers=b.h()).json()
    assert received["report"]["files"] == [body["files"][0]]


def test_routes_forward_on_classification(client, make_org, db_url):
    a = make_org(country="NL")
    police_nl, police_de = (
        make_org(sector="law_enforcement", country="NL"),
        make_org(sector="law_enforcement", country="DE"),
    )
    db = database(db_url)
    rulebook.add_rule(db, a.name, "assessment=baseline", "allow", "law_enforcement", None)
    rulebook.add_route(db, a.name, "assessment=baseline", "law_enforcement", None)
    body = {**example(0), "jurisdiction": "DE"}
    report_id = _report(client, a, body)
    answer = _classify(client, a, report_id, {"assessment": "baseline"})
    assert [f["to"] for f in answer["forwarded"] if f["sent"]] == [police_de.name]
    assert len(client.get("/v1/queue", headers=police_de.h()).json()["reports"]) == 1
    assert client.get("/v1/queue", headers=police_nl.h()).json()["reports"] == []
    # classified again: not forwarded twice
    assert _classify(client, a, report_id, {"assessment": "baseline"})["forwarded"] == []


@pytest.mark.parametrize(
    "payload, field",
    [({"to": ""}, "to"), ({"to": "x", "files": [-1]}, "files"), ({"to": "x", "extra": 1}, "extra")],
)
def test_bad_forward_requests_are_named(client, make_org, payload, field):
    a = make_org()
    report_id = _report(client, a, example(0))
    response = client.post(f"/v1/reports/{report_id}/forward", json=payload, headers=a.h("supervisor"))
    assert response.status_code == 422 and field in response.text


def test_analysts_cannot_forward_and_strangers_see_404(client, make_org):
    a, b = make_org(), make_org()
    report_id = _report(client, a, example(0))
    assert (
        client.post(f"/v1/reports/{report_id}/forward", json={"to": b.name}, headers=a.h()).status_code == 403
    )
    assert _forward(client, b, report_id, a.name).status_code == 404
    unknown = _forward(client, a, report_id, "no-such-org")
    assert unknown.status_code == 422 and "no organisation named" in unknown.text


def _audit(db):
    from sqlalchemy import select

    from vigil.store.models import AuditEntry

    with db.engine.connect() as conn:
        return conn.execute(select(AuditEntry.__table__)).all()


def test_the_sender_sees_feedback_in_statistics(client, make_org, db_url):
    a, b = make_org(), make_org(sector="law_enforcement")
    db = database(db_url)
    rulebook.add_rule(db, a.name, "assessment=*", "allow", "law_enforcement", None)
    rulebook.add_rule(db, b.name, "assessment=*", "allow", None, a.name)
    received = []
    for _ in range(3):
        report_id = _report(client, a, example(1))
        _classify(client, a, report_id, {"assessment": "baseline"})
        received.append(_forward(client, a, report_id, b.name).json()["delivered"]["report"])
    for rid, outcome in zip(received[:2], ("case_opened", "victim_identified"), strict=True):
        answer = client.post(f"/v1/reports/{rid}/feedback", json={"outcome": outcome}, headers=b.h())
        assert answer.status_code == 201, answer.text
    stats = client.get("/v1/exchange/stats", headers=a.h()).json()["receivers"]
    assert [(s["organisation"], s["forwarded"], s["answered"]) for s in stats] == [(b.name, 3, 2)]
    assert stats[0]["outcomes"] == {"case_opened": 1, "victim_identified": 1}
    assert stats[0]["hours_to_answer"]["median"] is not None
    assert client.get("/v1/exchange/stats", headers=b.h()).json()["receivers"] == []  # B forwarded nothing


def test_forwards_that_would_send_nothing_are_refused(client, make_org, db_url):
    from vigil.errors import VigilError

    a, b = make_org(), make_org(sector="law_enforcement")
    db = database(db_url)
    rulebook.add_rule(db, a.name, "assessment=*", "allow", "law_enforcement", None)
    rulebook.add_rule(db, a.name, "ai_generated=yes", "deny", "law_enforcement", None)
    report_id = _report(client, a, example(0))
    _classify(client, a, report_id, {"assessment": "baseline"})
    _classify(client, a, report_id, {"assessment": "baseline", "ai_generated": "yes"}, file=0)
    none_chosen = _forward(client, a, report_id, b.name, files=[])
    assert none_chosen.status_code == 422 and "at least one file" in none_chosen.text
    all_withheld = _forward(client, a, report_id, b.name, files=[0])
    assert all_withheld.status_code == 403 and "ai_generated=yes" in all_withheld.json()["detail"]
    assert client.get("/v1/queue", headers=b.h()).json()["reports"] == []
    nul = _forward(client, a, report_id, "x\u0000y")
    assert nul.status_code == 422  # never reaches PostgreSQL, which cannot store NUL
    with pytest.raises(VigilError, match="the organisation itself"):
        rulebook.add_route(db, a.name, "assessment=baseline", None, a.name)

"""Applying a message addressed to an organisation of this instance: a forwarded report becomes a
report in the receiver's queue (through intake: linked, de-duplicated, prioritised, matched against
the receiver's hash sets), feedback lands on the report it answers. Idempotent by message id: a
message applied before changes nothing and gets the answer it got then. Runs in the caller's
transaction, with the audit chain locked (intake's lock)."""

from __future__ import annotations

import json

from vigil.exchange import feeds, messages
from vigil.exchange import store as xs
from vigil.reports import classification, completeness, intake, template
from vigil.store import audit
from vigil.store.roundtrips import write_all


class Refused(Exception):
    """A message this instance will not apply (HTTP 403 at the inbox): nothing changed."""


def apply(conn, service, message: dict, peer_id: int | None) -> dict:
    envelope, body = messages.parse(message)
    done = xs.received(conn, envelope.id)
    if done is not None:
        return done
    sender, receiver = xs.org_by_name(conn, envelope.sender), xs.org_by_name(conn, envelope.to)
    if receiver is None or receiver.peer_id is not None:
        raise Refused(f"no organisation named {envelope.to[:200]!r} on this instance")
    if sender is None or sender.peer_id != peer_id:
        raise Refused(f"this peer does not speak for {envelope.sender[:200]!r}")
    if envelope.kind == "report":
        result = _report(conn, service, envelope, body, sender, receiver)
    elif envelope.kind == "feedback":
        result = _feedback(conn, envelope, body, sender, receiver)
    else:
        result = _opinions(conn, envelope, body, sender, receiver)
    xs.mark_received(conn, envelope.id, peer_id, envelope.kind, result)
    return result


def _report(conn, service, envelope, body: messages.ReportBody, sender, receiver) -> dict:
    problems = template.validate(body.report)
    if problems:
        raise messages.BadMessage([{**p, "field": "/body/report" + p["field"]} for p in problems])
    _check_labels(service, body)
    files = body.report.get("files") or []
    if len(files) != len(body.files):
        raise messages.BadMessage([{"field": "/body/files", "message": "one entry per file of the report"}])
    score, missing = completeness.assess(body.report)
    prepared = intake.Prepared(
        body.report, score, missing, intake.check_files(service.checker, files), intake.link_keys(body.report)
    )
    job = intake.Job(f"{sender.name} (forwarded)", None, receiver.id, receiver.country, "forward", [prepared])
    answers, writes = intake.decide(conn, service.rules, [job])
    write_all(conn, writes, commit=False)
    report_id = answers[0][0]["id"]
    history = [h.model_dump(mode="json", by_alias=True) for h in body.history]
    labels = {"report": body.labels, "files": [f.model_dump(mode="json") for f in body.files]}
    xs.add_hop(
        conn,
        message_id=envelope.id,
        direction="in",
        report_id=report_id,
        org_id=receiver.id,
        other_org_id=sender.id,
        files=json.dumps([f.position for f in body.files]),
        labels=json.dumps(labels),
        rule=body.rule,
        history=json.dumps(history),
        actor=body.by,
    )
    detail = {"message": envelope.id, "from": sender.name, "rule": body.rule, "by": body.by}
    audit.append(conn, sender.name, receiver.id, "exchange.receive", f"report:{report_id}", detail)
    return {"report": report_id, "status": answers[0][0]["status"]}


def _check_labels(service, body: messages.ReportBody) -> None:
    """The sender's classifications must follow the schema here, as this organisation's own do."""
    labelled = [("/body/labels", body.labels)] + [
        (f"/body/files/{i}/labels", f.labels) for i, f in enumerate(body.files)
    ]
    for where, labels in labelled:
        if labels is not None:
            problems = classification.check(labels, service.classification_extra)
            if problems:
                raise messages.BadMessage(
                    [{**p, "field": where + p["field"].removeprefix("/labels")} for p in problems]
                )


def _feedback(conn, envelope, body: messages.FeedbackBody, sender, receiver) -> dict:
    hop = xs.hop_by_message(conn, body.forward, "out")
    if hop is None or hop.org_id != receiver.id or hop.other_org_id != sender.id:
        raise messages.BadMessage(
            [{"field": "/body/forward", "message": "no report was forwarded to you with that id"}]
        )
    xs.add_feedback(
        conn,
        message_id=envelope.id,
        hop_message_id=body.forward,
        report_id=hop.report_id,
        from_org_id=sender.id,
        outcome=body.outcome,
        reason=body.reason,
        actor=body.by,
    )
    detail = {"message": envelope.id, "from": sender.name, "outcome": body.outcome}
    audit.append(
        conn, sender.name, receiver.id, "exchange.feedback-received", f"report:{hop.report_id}", detail
    )
    return {"report": hop.report_id, "outcome": body.outcome}


def _opinions(conn, envelope, body: messages.OpinionBody, sender, receiver) -> dict:
    if body.feed != receiver.name:
        raise messages.BadMessage([{"field": "/body/feed", "message": "opinions go to the feed's publisher"}])
    disputed = feeds.record_opinions(conn, receiver.id, sender.id, body.items)
    detail = {"message": envelope.id, "from": sender.name, "items": len(body.items), "disputed": disputed}
    audit.append(
        conn, sender.name, receiver.id, "exchange.opinions-received", f"feed:{receiver.name}", detail
    )
    return {"feed": body.feed, "items": len(body.items), "disputed": disputed}

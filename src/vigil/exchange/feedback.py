"""Feedback: the receiver of a forwarded report tells its sender what came of it (accepted, case
opened, victim identified, offender identified, no action with a reason, not illegal here). It goes
back along the hop that brought the report, checked by the receiver's own sharing rules like anything
else that leaves, and shows on the sender's report and in its statistics."""

from __future__ import annotations

import json

from vigil.errors import NotFoundError
from vigil.exchange import messages, receive, rulebook
from vigil.exchange import store as xs
from vigil.exchange.rules import Receiver, decide
from vigil.reports import repository as repo
from vigil.reports.accounts import Principal
from vigil.reports.errors import Forbidden, InvalidInput, require
from vigil.store import audit

CANNOT = "the feedback cannot be given"


def give(service, principal: Principal, report_id: int, outcome: str, reason: str | None) -> dict:
    require(principal, "reports:classify", "this token may not give feedback (scope reports:classify)")
    if outcome not in messages.OUTCOMES:
        raise InvalidInput(
            [{"field": "/outcome", "message": f"one of {', '.join(messages.OUTCOMES)}"}], CANNOT
        )
    if outcome == "no_action" and not (reason or "").strip():
        raise InvalidInput([{"field": "/reason", "message": "say why no action is taken"}], CANNOT)
    with repo.intake_transaction(service.db) as conn:
        audit.lock_chain(conn)
        if xs.report(conn, principal.org_id, report_id) is None:
            raise NotFoundError(f"no report {report_id}")
        came = xs.hops(conn, report_id, "in")
        if not came:
            message = "the report was not forwarded to you: there is nobody to give feedback to"
            raise InvalidInput([{"field": "/report", "message": message}], CANNOT)
        hop = came[-1]
        sender = xs.org_by_id(conn, hop.other_org_id)
        whole, _ = xs.latest_labels(conn, principal.org_id, report_id)
        labels = whole or (json.loads(hop.labels or "{}").get("report") or {})
        verdict = decide(
            rulebook.share_rules(conn, principal.org_id), labels, Receiver(sender.name, sender.sector)
        )
        detail = {"to": sender.name, "outcome": outcome, "allowed": verdict.allowed, "why": verdict.why}
        if not verdict.allowed:
            audit.append(
                conn, principal.email, principal.org_id, "exchange.deny", f"report:{report_id}", detail
            )
            denied = verdict.why
        else:
            denied = None
            body = {"forward": hop.message_id, "outcome": outcome, "reason": reason, "by": principal.email}
            message = messages.new("feedback", principal.org_name, sender.name, body)
            xs.add_feedback(
                conn,
                message_id=message["id"],
                hop_message_id=hop.message_id,
                report_id=report_id,
                from_org_id=principal.org_id,
                outcome=outcome,
                reason=reason,
                actor=principal.email,
            )
            if sender.peer_id is None:
                receive.apply(conn, service, message, None)
            else:
                xs.enqueue(conn, sender.peer_id, message)
            detail["message"] = message["id"]
            audit.append(
                conn, principal.email, principal.org_id, "exchange.feedback", f"report:{report_id}", detail
            )
    if denied:
        raise Forbidden(f"the sharing rules do not let feedback go to {sender.name[:200]}: {denied}")
    return {
        "report": report_id,
        "to": sender.name,
        "outcome": outcome,
        "reason": reason,
        "message": message["id"],
    }


def history(db, principal: Principal, report_id: int) -> dict:
    """The report's place in the network, for its reader: where it came from (the whole chain), where
    it went, and the feedback given and received."""
    with db.engine.connect() as conn:
        if not repo.can_read(conn, principal.org_id, report_id):
            raise NotFoundError(f"no report {report_id}")
        if not repo.owns(conn, principal.org_id, report_id):  # shared with it: the owner's network is its own
            return {"received": None, "forwarded": [], "feedback": []}
        hops = xs.hops(conn, report_id)
        given = xs.feedback_of(conn, report_id)
        names = xs.org_names(conn, [h.other_org_id for h in hops] + [f.from_org_id for f in given])
        came = [h for h in hops if h.direction == "in"]
        return {
            "received": None
            if not came
            else {
                "from": names[came[-1].other_org_id],
                "chain": json.loads(came[-1].history),
                "classification": json.loads(came[-1].labels or "null"),
            },
            "forwarded": [
                {
                    "to": names[h.other_org_id],
                    "at": h.at.isoformat() + "Z",
                    "rule": h.rule,
                    "by": h.actor,
                    "files": json.loads(h.files),
                    "message": h.message_id,
                }
                for h in hops
                if h.direction == "out"
            ],
            "feedback": [
                {
                    "from": names[f.from_org_id],
                    "outcome": f.outcome,
                    "reason": f.reason,
                    "by": f.actor,
                    "at": f.at.isoformat() + "Z",
                }
                for f in given
            ],
        }

"""Forwarding a report, or chosen files of it, to another organisation: by hand (a supervisor) or
by the organisation's routing rules once it has classified the report. Every item that leaves is
checked against the sender's sharing rules (exchange.rules: deny wins, default deny); a refusal is
audited and answered with the rule. The receiver gets the report with the sender's classification,
each file's labels and earlier assessment, and the chain of hops before; a receiver on this instance
gets it in the same transaction, one at a peer instance through the outbox (exchange.outbox)."""

from __future__ import annotations

import json

from vigil.errors import NotFoundError, VigilError
from vigil.exchange import messages, receive, rulebook
from vigil.exchange import store as xs
from vigil.exchange.rules import Receiver, decide
from vigil.reports import repository as repo
from vigil.reports.accounts import Principal
from vigil.reports.errors import Forbidden, InvalidInput
from vigil.store import audit

BY_HAND = "by hand"
CANNOT = "the report cannot be forwarded"


def require_forwarder(principal: Principal) -> None:
    if not principal.can("reports:share") or principal.role == "analyst":
        raise Forbidden("forwarding reports needs a supervisor or admin (scope reports:share)")


def forward(
    service, principal: Principal, report_id: int, to: str, positions: list[int] | None = None
) -> dict:
    """Forward by hand; the answer says what was sent, what was withheld and why."""
    require_forwarder(principal)
    actor = (principal.email, principal.org_id, principal.org_name)
    with repo.intake_transaction(service.db) as conn:
        audit.lock_chain(conn)  # before any read: a receiver here is written under intake's lock
        outcome = forward_in(conn, service, actor, report_id, to, positions, BY_HAND)
    if not outcome["sent"]:
        raise Forbidden(f"the sharing rules do not let this report go to {to[:200]}: {outcome['why']}")
    return outcome


def forward_in(conn, service, actor: tuple, report_id: int, to: str, positions, rule: str) -> dict:
    """In the caller's transaction, with the chain locked. A refusal is audited (and committed) and
    answered with `sent: False`; the caller decides whether it is an error."""
    email, org_id, org_name = actor
    row = xs.report(conn, org_id, report_id)
    if row is None:
        if repo.can_read(conn, org_id, report_id):
            raise Forbidden(f"report {report_id} was shared with you: only its owner forwards it")
        raise NotFoundError(f"no report {report_id}")
    receiver = xs.org_by_name(conn, to)
    if receiver is None:
        raise InvalidInput([{"field": "/to", "message": f"no organisation named {to[:200]!r}"}], CANNOT)
    if receiver.id == org_id:
        raise InvalidInput([{"field": "/to", "message": "the report is already your organisation's"}], CANNOT)
    body = json.loads(row.body)
    files = xs.files(conn, report_id)
    chosen = _chosen(files, positions)
    whole, per_file = xs.latest_labels(conn, org_id, report_id)
    rules = rulebook.share_rules(conn, org_id)
    who = Receiver(receiver.name, receiver.sector)
    verdict = decide(rules, whole or {}, who)
    sent, withheld = [], []
    for f in chosen:
        labels = per_file.get(f.id) or whole or {}
        file_verdict = decide(rules, labels, who) if verdict.allowed else verdict
        (sent if file_verdict.allowed else withheld).append((f, file_verdict))
    decisions = [{"item": "report", "allowed": verdict.allowed, "why": verdict.why}] + [
        {"item": f"file {f.position}", "allowed": v.allowed, "why": v.why} for f, v in sent + withheld
    ]
    detail = {"to": receiver.name, "rule": rule, "decisions": decisions[:100]}
    if chosen and not sent and verdict.allowed:
        verdict = withheld[0][1]  # every file chosen is denied: nothing worth sending
    if not verdict.allowed:
        audit.append(conn, email, org_id, "exchange.deny", f"report:{report_id}", detail)
        return {"report": report_id, "to": receiver.name, "sent": False, "why": verdict.why}
    came = xs.hops(conn, report_id, "in")  # the hops that brought it here, if it was forwarded to us
    history = json.loads(came[-1].history) if came else []
    hop = {
        "from": org_name,
        "to": receiver.name,
        "at": "",
        "rule": rule,
        "by": email,
        "files": [f.position for f, _ in sent],
    }
    content = {
        "report": {**body, "files": [(body.get("files") or [])[f.position] for f, _ in sent]},
        "files": [
            {
                "position": f.position,
                "labels": per_file.get(f.id),
                "prior": json.loads(f.prior) if f.prior else None,
            }
            for f, _ in sent
        ],
        "labels": whole,
        "rule": rule,
        "by": email,
        "history": history,
    }
    message = messages.new("report", org_name, receiver.name, content)
    hop["at"] = message["at"]
    content["history"] = [*history, hop]
    xs.add_hop(
        conn,
        message_id=message["id"],
        direction="out",
        report_id=report_id,
        org_id=org_id,
        other_org_id=receiver.id,
        files=json.dumps(hop["files"]),
        labels=json.dumps(whole),
        rule=rule,
        history=json.dumps(content["history"]),
        actor=email,
    )
    if receiver.peer_id is None:
        delivered = receive.apply(conn, service, message, None)
    else:
        xs.enqueue(conn, receiver.peer_id, message)
        delivered = {"queued": True}
    detail.update(message=message["id"], files=hop["files"])
    audit.append(conn, email, org_id, "exchange.forward", f"report:{report_id}", detail)
    return {
        "report": report_id,
        "to": receiver.name,
        "sent": True,
        "message": message["id"],
        "files": hop["files"],
        "withheld": [{"file": f.position, "why": v.why} for f, v in withheld],
        "rule": rule,
        "delivered": delivered,
    }


def _chosen(files: list, positions: list[int] | None) -> list:
    if positions is None:
        return files
    by_position = {f.position: f for f in files}
    missing = [p for p in positions if p not in by_position]
    if missing:
        message = f"the report has no file {missing[0]} (it has {len(files)})"
        raise InvalidInput([{"field": "/files", "message": message}], CANNOT)
    if not positions:
        raise InvalidInput(
            [{"field": "/files", "message": "choose at least one file, or leave it out"}], CANNOT
        )
    return [by_position[p] for p in sorted(set(positions))]


def route(service, principal: Principal, report_id: int) -> list[dict]:
    """Forward the report as the organisation's routing rules say, after a classification: to a named
    organisation, or to every organisation of a sector in the report's hosting country (its
    `jurisdiction`, until hosting look-ups land). Each forward is checked by the sharing rules."""
    actor = (principal.email, principal.org_id, principal.org_name)
    with repo.intake_transaction(service.db) as conn:
        audit.lock_chain(conn)
        row = xs.report(conn, principal.org_id, report_id)
        whole, _ = xs.latest_labels(conn, principal.org_id, report_id)
        if row is None or not whole:
            return []
        country = json.loads(row.body).get("jurisdiction")
        already = {h.other_org_id for h in xs.hops(conn, report_id, "out")}
        targets = []
        for r in rulebook.routes(conn, principal.org_id):
            if r["label"] not in whole or r["value"] not in ("*", whole[r["label"]]):
                continue
            if r["to"]:
                targets.append((r["to"], r))
            elif country:
                targets += [
                    (o.name, r) for o in xs.orgs_in(conn, r["sector"], country) if o.id != principal.org_id
                ]
        done, outcomes = set(), []
        for name, r in targets:
            target = xs.org_by_name(conn, name)
            if name in done or target is None or target.id in already or target.id == principal.org_id:
                continue
            done.add(name)
            rule = f"route {r['id']}: {r['label']}={r['value']} to " + (
                r["to"] or f"{r['sector']} in {country}"
            )
            try:
                outcomes.append(forward_in(conn, service, actor, report_id, name, None, rule))
            except VigilError as exc:  # a route that cannot apply is reported, never fails the classification
                outcomes.append({"report": report_id, "to": name, "sent": False, "why": str(exc)[:300]})
    return outcomes

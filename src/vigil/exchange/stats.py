"""The sender's view of what its forwards became: per receiving organisation, how many reports went
there, how many answered, each outcome, and the time to the first answer (median, 90th percentile)."""

from __future__ import annotations

from statistics import median

from sqlalchemy import select

from vigil.exchange import store as xs
from vigil.exchange.notices import percentile
from vigil.reports.accounts import Principal
from vigil.reports.errors import require
from vigil.store.db import Database
from vigil.store.models import ExchangeHop, Feedback


def feedback_stats(db: Database, principal: Principal) -> dict:
    require(principal, "reports:read", "this token may not read reports (scope reports:read)")
    with db.engine.connect() as conn:
        hops = conn.execute(
            select(ExchangeHop.message_id, ExchangeHop.other_org_id, ExchangeHop.at).where(
                ExchangeHop.org_id == principal.org_id, ExchangeHop.direction == "out"
            )
        ).all()
        answers = conn.execute(
            select(Feedback.hop_message_id, Feedback.outcome, Feedback.at)
            .join(
                ExchangeHop,
                (ExchangeHop.message_id == Feedback.hop_message_id) & (ExchangeHop.direction == "out"),
            )
            .where(ExchangeHop.org_id == principal.org_id, Feedback.report_id == ExchangeHop.report_id)
            .order_by(Feedback.at)
        ).all()
        names = xs.org_names(conn, [hop.other_org_id for hop in hops])
    first: dict[str, tuple] = {}
    outcomes: dict[str, list[str]] = {}
    for a in answers:
        first.setdefault(a.hop_message_id, a)
        outcomes.setdefault(a.hop_message_id, []).append(a.outcome)
    rows: dict[str, dict] = {}
    for hop in hops:
        row = rows.setdefault(
            names[hop.other_org_id], {"forwarded": 0, "answered": 0, "outcomes": {}, "hours": []}
        )
        row["forwarded"] += 1
        if hop.message_id in first:
            row["answered"] += 1
            row["hours"].append((first[hop.message_id].at - hop.at).total_seconds() / 3600)
            for outcome in outcomes[hop.message_id]:
                row["outcomes"][outcome] = row["outcomes"].get(outcome, 0) + 1
    return {
        "receivers": [
            {
                "organisation": name,
                "forwarded": r["forwarded"],
                "answered": r["answered"],
                "outcomes": r["outcomes"],
                "hours_to_answer": {
                    "median": round(median(r["hours"]), 2) if r["hours"] else None,
                    "p90": round(percentile(r["hours"], 0.9), 2) if r["hours"] else None,
                },
            }
            for name, r in sorted(rows.items())
        ]
    }

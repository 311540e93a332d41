"""Hash feeds, the publisher's side. An organisation's assessed hashes are published as an ordered
log (`feed_items`): each classification appends what changed (hash, opinion, category and the labels
the sharing rules are checked against), and `seq` is the checkpoint subscribers resume from, as in
Meta's ThreatExchange fetch API (deltas in order; a checkpoint never goes back). A reader only sees
what the publisher's rules let go to it; an item it saw earlier whose new labels it may not see comes
as a tombstone (it already knew the hash), so nothing denied is ever revealed. Subscribers' opinions
come back (exchange.receive, message kind `opinion`); a negative opinion of a positive hash makes it
`disputed` in the feed."""

from __future__ import annotations

import json

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from vigil.classify.schema import mapped
from vigil.errors import NotFoundError
from vigil.exchange import rulebook
from vigil.exchange import store as xs
from vigil.exchange.rules import Receiver, decide
from vigil.reports.repository import HASH_KINDS
from vigil.store.db import Database, insert_or, utcnow
from vigil.store.models import FeedItem, FeedOpinion, ReportFile

OPINIONS = ("positive", "negative", "disputed")
BY_ASSESSMENT = {"baseline": "positive", "nationally_illegal": "positive", "not_illegal": "negative"}
PAGE = 50_000  # items per answer (the subscriber asks again from the new checkpoint)
MAX_PAGE = 100_000


class StaleCheckpoint(Exception):
    """The checkpoint is not one this feed gave (say, the publisher's database was restored from an
    older backup): the subscriber must resync from the start (HTTP 410)."""


def _category(labels: dict, opinion: str) -> str | None:
    if opinion == "negative":
        return "non_pertinent"
    return mapped(labels).get("vics") if labels.get("severity") else "csam"


def publish(conn: Connection, org_id: int, report_id: int) -> int:
    """Append to the organisation's feed what its classifications of the report now say about each
    file's hashes (a file's own classification, else the report's); unchanged hashes are not repeated.
    Returns the number of items appended. In the caller's transaction."""
    whole, per_file = xs.latest_labels(conn, org_id, report_id)
    columns = [getattr(ReportFile, k) for k in HASH_KINDS]
    files = conn.execute(select(ReportFile.id, *columns).where(ReportFile.report_id == report_id)).all()
    wanted = {}
    for f in files:
        labels = per_file.get(f.id) or whole or {}
        opinion = BY_ASSESSMENT.get(labels.get("assessment"))
        if opinion is None:
            continue
        for kind, value in zip(HASH_KINDS, f[1:], strict=True):
            if value:
                wanted[(kind, value.lower())] = (
                    opinion,
                    _category(labels, opinion),
                    json.dumps(labels, sort_keys=True),
                )
    current = _current(conn, org_id, list(wanted))
    rows = [
        {
            "org_id": org_id,
            "signal": s,
            "value": v,
            "opinion": o,
            "category": c,
            "labels": lab,
            "deleted": False,
            "at": utcnow(),
        }
        for (s, v), (o, c, lab) in wanted.items()
        if current.get((s, v)) != (o, c, lab)
    ]
    if rows:
        conn.execute(insert(FeedItem), rows)
    return len(rows)


def by_signal(keys) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for signal, value in keys:
        out.setdefault(signal, []).append(value)
    return out


def history(conn: Connection, org_id: int, keys, columns: tuple) -> list:
    """Rows (`columns`, with `seq`) of the organisation's feed for the (signal, value) keys, oldest
    first: looked up by signal, so each look-up uses the (org, signal, value) index (sorted here: an
    ORDER BY seq made SQLite walk the org's whole feed by its seq index instead)."""
    rows = []
    for signal, values in by_signal(keys).items():
        for i in range(0, len(values), 500):
            rows += conn.execute(
                select(FeedItem.seq, *columns).where(
                    FeedItem.org_id == org_id,
                    FeedItem.signal == signal,
                    FeedItem.value.in_(values[i : i + 500]),
                )
            ).all()
    return sorted(rows, key=lambda r: r.seq)


def _current(conn: Connection, org_id: int, keys: list[tuple[str, str]]) -> dict:
    """The latest (opinion, category, labels) of each (signal, value) in the organisation's feed."""
    columns = (FeedItem.signal, FeedItem.value, FeedItem.opinion, FeedItem.category, FeedItem.labels)
    return {
        (r.signal, r.value): (r.opinion, r.category, r.labels) for r in history(conn, org_id, keys, columns)
    }


def publish_report(db: Database, org_id: int, report_id: int) -> int:
    with db.engine.begin() as conn:
        return publish(conn, org_id, report_id)


def read(db: Database, feed: str, reader: Receiver, since: int = 0, limit: int = PAGE) -> dict:
    """The feed's changes after checkpoint `since` that `reader` may see, oldest first, at most
    `limit` rows examined; `checkpoint` is where to continue, `more` whether to."""
    limit = max(1, min(limit, MAX_PAGE))
    with db.engine.connect() as conn:
        org = xs.org_by_name(conn, feed)
        if org is None or org.peer_id is not None:
            raise NotFoundError(f"no feed named {feed[:200]!r} on this instance")
        last = (
            conn.execute(
                select(FeedItem.seq).where(FeedItem.org_id == org.id).order_by(FeedItem.seq.desc()).limit(1)
            ).scalar()
            or 0
        )
        if since > last:
            raise StaleCheckpoint(f"checkpoint {since} is ahead of this feed ({last}): resync from 0")
        rows = conn.execute(
            select(FeedItem.__table__)
            .where(FeedItem.org_id == org.id, FeedItem.seq > since)
            .order_by(FeedItem.seq)
            .limit(limit + 1)
        ).all()
        more, rows = len(rows) > limit, rows[:limit]
        rules = rulebook.share_rules(conn, org.id)
        verdicts: dict[str | None, bool] = {}  # a feed has few distinct classifications: decide each once
        for r in rows:
            if r.labels not in verdicts:
                verdicts[r.labels] = decide(rules, json.loads(r.labels or "{}"), reader).allowed
        allowed = [verdicts[r.labels] for r in rows]
        known = _seen_before(
            conn, org.id, [r for r, ok in zip(rows, allowed, strict=True) if not ok], rules, reader
        )
    _mark_read(db, org.id, reader, rows[-1].seq if rows else since)
    items = []
    for r, ok in zip(rows, allowed, strict=True):
        if ok:
            items.append(
                {
                    "signal": r.signal,
                    "value": r.value,
                    "opinion": r.opinion,
                    "category": r.category,
                    "deleted": r.deleted,
                }
            )
        elif r.seq in known:
            items.append({"signal": r.signal, "value": r.value, "deleted": True})
    return {"feed": feed, "checkpoint": rows[-1].seq if rows else since, "more": more, "items": items}


def _mark_read(db: Database, org_id: int, reader: Receiver, checkpoint: int) -> None:
    """Remember how far `reader` has read (never backwards): take it down's status counts the members
    that hold a self-reported hash by it."""
    from vigil.store.models import FeedReader

    with db.engine.begin() as conn:
        row = {"org_id": org_id, "reader": reader.name, "sector": reader.sector, "checkpoint": checkpoint}
        conn.execute(
            insert_or(conn, FeedReader)
            .values(**row, at=utcnow())
            .on_conflict_do_update(
                index_elements=["org_id", "reader"],
                set_={
                    "sector": reader.sector,
                    "at": utcnow(),
                    "checkpoint": func.max(FeedReader.checkpoint, checkpoint)
                    if conn.dialect.name == "sqlite"
                    else func.greatest(FeedReader.checkpoint, checkpoint),
                },
            )
        )


def _seen_before(conn, org_id: int, denied: list, rules, reader: Receiver) -> set[int]:
    """Of the rows the reader may not see, those whose hash it was shown before (an earlier row of the
    same hash it was allowed): it gets a tombstone, so it stops matching what it may no longer hold."""
    if not denied:
        return set()
    columns = (FeedItem.signal, FeedItem.value, FeedItem.labels)
    earlier: dict[tuple[str, str], list] = {}
    for e in history(conn, org_id, {(r.signal, r.value) for r in denied}, columns):
        earlier.setdefault((e.signal, e.value), []).append(e)
    found: set[int] = set()
    verdicts: dict[str | None, bool] = {}
    for r in denied:
        before = [e for e in earlier.get((r.signal, r.value), []) if e.seq < r.seq]
        if before:
            labels = before[-1].labels
            if labels not in verdicts:
                verdicts[labels] = decide(rules, json.loads(labels or "{}"), reader).allowed
            if verdicts[labels]:
                found.add(r.seq)
    return found


def record_opinions(conn: Connection, publisher_id: int, from_org_id: int, items: list) -> int:
    """A subscriber's opinions of published hashes; a negative one of a hash the publisher holds
    positive makes it `disputed` in the feed (appended, so every subscriber learns it)."""
    current = _current(conn, publisher_id, [(i.signal, i.value.lower()) for i in items])
    items = [i for i in items if (i.signal, i.value.lower()) in current]  # only hashes it published
    if not items:
        return 0
    conn.execute(
        insert(FeedOpinion),
        [
            {
                "org_id": publisher_id,
                "from_org_id": from_org_id,
                "signal": i.signal,
                "value": i.value.lower(),
                "opinion": i.opinion,
                "reason": i.reason,
                "at": utcnow(),
            }
            for i in items
        ],
    )
    disputed = []
    for i in items:
        state = current.get((i.signal, i.value.lower()))
        if i.opinion == "negative" and state and state[0] == "positive":
            disputed.append(
                {
                    "org_id": publisher_id,
                    "signal": i.signal,
                    "value": i.value.lower(),
                    "opinion": "disputed",
                    "category": state[1],
                    "labels": state[2],
                    "deleted": False,
                    "at": utcnow(),
                }
            )
    if disputed:
        conn.execute(insert(FeedItem), disputed)
    return len(disputed)


def reader_for_org(db: Database, org_id: int) -> Receiver:
    with db.engine.connect() as conn:
        org = xs.org_by_id(conn, org_id)
    return Receiver(org.name, org.sector)


def reader_for_peer(db: Database, peer_id: int) -> Receiver:
    """The organisation a peer speaks for, as the sharing rules name it."""
    from vigil.store.models import Organisation

    with db.engine.connect() as conn:
        org = conn.execute(
            select(Organisation.name, Organisation.sector).where(Organisation.peer_id == peer_id)
        ).first()
    if org is None:
        raise NotFoundError("this peer speaks for no organisation here")
    return Receiver(org.name, org.sector)


def after_classification(service, principal, report_id: int, whole: bool) -> list[dict]:
    """What a classification sets going: its hashes into the organisation's feed, and (a decision on
    the whole report) the forwards its routing rules ask for."""
    from vigil.exchange import forward

    publish_report(service.db, principal.org_id, report_id)
    return forward.route(service, principal, report_id) if whole else []

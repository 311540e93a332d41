"""Notice and takedown: per reported URL, notices to its hosting provider until the content is gone.

A notice is created for one URL of a report the organisation may read. `run_due` (run every few
minutes, `vigil notices run`) does what hotlines do by hand: about an hour after assessment the URL is
checked and, if the content is still there, the first notice goes to the host; while it stays online
a repeat goes every 24 hours, each sent only after a fresh check. A check that finds it gone confirms
the removal; the URL is then watched for a while, and content that comes back is a re-appearance:
notices resume. People record what they did by hand with the same outcomes hotlines already use.

Checks and notices talk to the network (vigil.exchange.availability: pluggable), never inside a
database transaction: a notice is first claimed (its next check moved a lease ahead, so two runners
never send the same notice twice), then checked and sent, then what happened is written and audited
in one transaction. Statistics are time from report (or notice) to removal per hosting country and
provider: median and 90th percentile (the CLI draws them as a table and a chart)."""

from __future__ import annotations

import json
import math
import re
import secrets
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from vigil.errors import NotFoundError
from vigil.exchange.availability import CheckResult, HttpChecker, HttpSender, SendResult, is_email
from vigil.reports import repository as repo
from vigil.reports import urls
from vigil.reports.accounts import Principal
from vigil.reports.errors import InvalidInput, require
from vigil.store.audit import append
from vigil.store.db import Database, utcnow
from vigil.store.models import Organisation, Report

# what hotlines record (by hand, or by `run_due` for notice_to_host, content_removed and moved)
OUTCOMES = (
    "referred_to_police",
    "notice_to_host",
    "content_removed",
    "content_unavailable",
    "moved",
    "not_illegal",
)
STATES = ("pending", "notified", "reappeared", "removed", "moved", "closed")
ACTIVE = ("pending", "notified", "reappeared")  # content believed online: notices go out
RUNNER = "notice-runner"  # the audit actor of `run_due`
MAX_NOTE = 1000
MAX_LIST = 1000
_COUNTRY = re.compile(r"[A-Z]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

_meta = MetaData()  # the tables as migration 0011 made them (kept out of vigil.store.models for now)
notices = Table(
    "notices",
    _meta,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id")),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE")),
    Column("url", String(2000)),
    Column("provider", String(200)),
    Column("hosting_country", String(2)),
    Column("contact", String(2000)),
    Column("reference", String(40)),
    Column("state", String(20)),
    Column("created_by", String(320)),
    Column("created_at", DateTime),
    Column("first_notice_at", DateTime),
    Column("last_notice_at", DateTime),
    Column("notices_sent", Integer),
    Column("next_check_at", DateTime),
    Column("last_checked_at", DateTime),
    Column("last_check_result", String(20)),
    Column("removed_at", DateTime),
    Column("reappeared_at", DateTime),
    Column("reappearances", Integer),
    Column("outcome", String(40)),
)
notice_events = Table(
    "notice_events",
    _meta,
    Column("id", Integer, primary_key=True),
    Column("notice_id", Integer, ForeignKey("notices.id", ondelete="CASCADE")),
    Column("at", DateTime),
    Column("action", String(40)),
    Column("detail", Text),
    Column("actor", String(320)),
)


@dataclass(frozen=True)
class Schedule:
    """When things happen (the timings hotlines use; exchange.md, "Notice and takedown")."""

    first_notice_after: timedelta = timedelta(hours=1)  # after the notice is created (assessment)
    repeat_every: timedelta = timedelta(hours=24)  # while the content stays online
    retry_after: timedelta = timedelta(hours=1)  # after a check or a notice that failed
    watch_every: timedelta = timedelta(hours=24)  # a removed URL is re-checked this often...
    watch_for: timedelta = timedelta(days=30)  # ... for this long after its removal
    lease: timedelta = timedelta(minutes=15)  # a claimed notice is retried after this if the run died


DEFAULT_SCHEDULE = Schedule()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _answer(row) -> dict:
    return {
        "id": row.id,
        "reference": row.reference,
        "report": row.report_id,
        "url": row.url,
        "provider": row.provider,
        "hosting_country": row.hosting_country,
        "contact": row.contact,
        "state": row.state,
        "outcome": row.outcome,
        "created_by": row.created_by,
        "created_at": _iso(row.created_at),
        "notices_sent": row.notices_sent,
        "first_notice_at": _iso(row.first_notice_at),
        "last_notice_at": _iso(row.last_notice_at),
        "next_check_at": _iso(row.next_check_at),
        "last_checked_at": _iso(row.last_checked_at),
        "last_check": row.last_check_result,
        "removed_at": _iso(row.removed_at),
        "reappeared_at": _iso(row.reappeared_at),
        "reappearances": row.reappearances,
    }


def _event(conn: Connection, notice_id: int, at: datetime, action: str, detail: dict, actor: str) -> None:
    conn.execute(
        insert(notice_events).values(
            notice_id=notice_id, at=at, action=action, detail=json.dumps(detail, sort_keys=True), actor=actor
        )
    )


def operator(db: Database, org_name: str) -> Principal:
    """The person at the server's command line, acting for the organisation `org_name` (audited as
    admin-cli, like `vigil admin`): whoever can run `vigil` on the server can read its database."""
    with db.engine.connect() as conn:
        org = conn.execute(
            select(Organisation.id, Organisation.name, Organisation.country).where(
                Organisation.name == org_name
            )
        ).first()
    if org is None:
        raise NotFoundError(f"--org: no organisation named {org_name[:100]!r}")
    scopes = frozenset(("reports:read", "reports:classify"))
    return Principal(0, "admin-cli", org.id, org.name, org.country, "admin", scopes)


# -- creating -------------------------------------------------------------------------------------
def _text_problem(field: str, value, limit: int) -> dict | None:
    if not isinstance(value, str) or not value.strip():
        return {"field": field, "message": "must not be empty"}
    if len(value) > limit:
        return {"field": field, "message": f"longer than {limit} characters"}
    if _CONTROL.search(value):
        return {"field": field, "message": "contains a control character"}
    return None


def _contact_problem(contact) -> dict | None:
    """Where notices go: an http(s) abuse endpoint, or an e-mail address (a person sends those)."""
    problem = _text_problem("/contact", contact, urls.MAX_LENGTH)
    if problem or is_email(contact.strip()):
        return problem
    try:
        urls.parse(contact)
    except ValueError as exc:
        return {"field": "/contact", "message": f"must be an e-mail address or a web address: {exc}"}
    return None


def check_input(url, provider, hosting_country, contact) -> list[dict]:
    """Every problem of a new notice's fields (the API and the CLI check the same way)."""
    problems = []
    try:
        if len(urls.normalise(url)) > urls.MAX_LENGTH:
            problems.append({"field": "/url", "message": f"longer than {urls.MAX_LENGTH} characters"})
    except ValueError as exc:
        problems.append({"field": "/url", "message": str(exc)})
    problems.append(_text_problem("/provider", provider, 200))
    if not isinstance(hosting_country, str) or not _COUNTRY.fullmatch(hosting_country.upper()):
        problems.append({"field": "/hosting_country", "message": "a two-letter ISO 3166 code such as NL"})
    problems.append(_contact_problem(contact))
    return [p for p in problems if p]


def _report_urls(body: str) -> set[str]:
    """The report's web URLs, normalised (one it cannot parse is not one a notice can name)."""
    found = set()
    for text in (json.loads(body).get("channel") or {}).get("urls") or []:
        try:
            found.add(urls.normalise(text))
        except ValueError:
            continue
    return found


def create_notice(
    db: Database,
    principal: Principal,
    report_id: int,
    url: str,
    provider: str,
    hosting_country: str,
    contact: str,
    now: datetime | None = None,
    schedule: Schedule = DEFAULT_SCHEDULE,
) -> dict:
    """A notice for one of the report's URLs; its first check and notice are due after
    `schedule.first_notice_after`. One notice per URL per organisation: it follows the URL for good
    (a URL reported again is already being followed, and its re-appearance noticed)."""
    require(principal, "reports:classify", "this token may not send notices (scope reports:classify)")
    problems = check_input(url, provider, hosting_country, contact)
    if problems:
        raise InvalidInput(problems, "the notice is not valid")
    now = now or utcnow()
    key = urls.normalise(url)
    values = {
        "org_id": principal.org_id,
        "report_id": report_id,
        "url": key,
        "provider": provider.strip(),
        "hosting_country": hosting_country.upper(),
        "contact": contact.strip(),
        "reference": "NTD-" + secrets.token_hex(5).upper(),
        "state": "pending",
        "created_by": principal.email,
        "created_at": now,
        "notices_sent": 0,
        "reappearances": 0,
        "next_check_at": now + schedule.first_notice_after,
    }
    try:
        with db.engine.begin() as conn:
            report = repo.report_row(conn, principal.org_id, report_id)
            if report is None:
                raise NotFoundError(f"no report {report_id}")
            if key not in _report_urls(report.body):
                message = f"is not one of report {report_id}'s URLs"
                raise InvalidInput([{"field": "/url", "message": message}], "the notice is not valid")
            _refuse_duplicate(conn, principal.org_id, key)
            notice_id = conn.execute(insert(notices).values(**values)).inserted_primary_key[0]
            _event(conn, notice_id, now, "created", {"report": report_id}, principal.email)
            detail = {"report": report_id, "reference": values["reference"]}
            append(conn, principal.email, principal.org_id, "notice.create", f"notice:{notice_id}", detail)
    except IntegrityError:  # created by someone else at the same moment
        _duplicate()
    return get_notice(db, principal, notice_id, audited=False)


def _duplicate(reference: str | None = None):
    which = f" ({reference})" if reference else ""
    message = f"this URL has a notice already{which}: record actions on it"
    raise InvalidInput([{"field": "/url", "message": message}], "the notice is not valid")


def _refuse_duplicate(conn: Connection, org_id: int, key: str) -> None:
    query = select(notices.c.reference).where(notices.c.org_id == org_id, notices.c.url == key)
    reference = conn.execute(query).scalar()
    if reference is not None:
        _duplicate(reference)


# -- reading --------------------------------------------------------------------------------------
def _own(conn: Connection, org_id: int, notice_id: int):
    """The organisation's notice, else None (another organisation's answers like a missing one)."""
    query = select(notices).where(notices.c.id == notice_id, notices.c.org_id == org_id)
    return conn.execute(query).first()


def get_notice(db: Database, principal: Principal, notice_id: int, audited: bool = True) -> dict:
    """The notice with its events, oldest first."""
    require(principal, "reports:read", "this token may not read notices (scope reports:read)")
    with db.engine.begin() as conn:
        row = _own(conn, principal.org_id, notice_id)
        if row is None:
            raise NotFoundError(f"no notice {notice_id}")
        events = conn.execute(
            select(notice_events)
            .where(notice_events.c.notice_id == notice_id)
            .order_by(notice_events.c.at, notice_events.c.id)
        ).all()
        if audited:
            append(conn, principal.email, principal.org_id, "notice.read", f"notice:{notice_id}")
    answer = _answer(row)
    answer["events"] = [
        {"at": _iso(e.at), "action": e.action, "detail": json.loads(e.detail), "by": e.actor} for e in events
    ]
    return answer


def list_notices(
    db: Database,
    principal: Principal,
    state: str | None = None,
    country: str | None = None,
    limit: int = 100,
) -> list[dict]:
    """The organisation's notices, newest first, optionally of one state or hosting country."""
    require(principal, "reports:read", "this token may not read notices (scope reports:read)")
    problems = []
    if state is not None and state not in STATES:
        problems.append({"field": "/state", "message": f"one of {', '.join(STATES)}"})
    if country is not None and not _COUNTRY.fullmatch(country.upper()):
        problems.append({"field": "/country", "message": "a two-letter ISO 3166 code such as NL"})
    if not 1 <= limit <= MAX_LIST:
        problems.append({"field": "/limit", "message": f"1 to {MAX_LIST}"})
    if problems:
        raise InvalidInput(problems, "the filter is not valid")
    query = select(notices).where(notices.c.org_id == principal.org_id)
    if state is not None:
        query = query.where(notices.c.state == state)
    if country is not None:
        query = query.where(notices.c.hosting_country == country.upper())
    with db.engine.begin() as conn:
        rows = conn.execute(query.order_by(notices.c.id.desc()).limit(limit)).all()
        detail = {"ids": [r.id for r in rows], "state": state, "country": country}
        append(conn, principal.email, principal.org_id, "notice.list", "notices", detail)
    return [_answer(r) for r in rows]


# -- actions by hand ------------------------------------------------------------------------------
def _by_hand(row, outcome: str, at: datetime, schedule: Schedule) -> dict:
    """What recording `outcome` changes on the notice (referred_to_police changes nothing but it)."""
    values: dict = {"outcome": outcome}
    if outcome == "notice_to_host":
        values.update(
            notices_sent=row.notices_sent + 1,
            first_notice_at=row.first_notice_at or at,
            last_notice_at=at,
            next_check_at=at + schedule.repeat_every,
            state="notified" if row.state in ("pending", "closed", "moved") else row.state,
        )
    elif outcome == "content_removed":
        values.update(state="removed", removed_at=at, next_check_at=at + schedule.watch_every)
    elif outcome == "moved":
        values.update(state="moved", next_check_at=None)
    elif outcome in ("content_unavailable", "not_illegal"):
        values.update(state="closed", next_check_at=None)
    return values


def record_action(
    db: Database,
    principal: Principal,
    notice_id: int,
    outcome: str,
    note: str | None = None,
    at: datetime | None = None,
    schedule: Schedule = DEFAULT_SCHEDULE,
) -> dict:
    """Record what a person did or learnt (`at`: when, if earlier than now, e.g. the host's reply
    says when it removed the content). Moved, content unavailable and not illegal end the checks;
    content removed starts the watch for re-appearance; a notice sent by hand restarts the repeats."""
    require(principal, "reports:classify", "this token may not act on notices (scope reports:classify)")
    now = utcnow()
    problems = []
    if outcome not in OUTCOMES:
        problems.append({"field": "/outcome", "message": f"one of {', '.join(OUTCOMES)}"})
    if note is not None and len(note) > MAX_NOTE:
        problems.append({"field": "/note", "message": f"longer than {MAX_NOTE} characters"})
    if at is not None and at > now + timedelta(minutes=5):
        problems.append({"field": "/at", "message": "is in the future"})
    if problems:
        raise InvalidInput(problems, "the action is not valid")
    at = at or now
    with db.engine.begin() as conn:
        row = _own(conn, principal.org_id, notice_id)
        if row is None:
            raise NotFoundError(f"no notice {notice_id}")
        if at < row.created_at:
            message = "is before the notice was created"
            raise InvalidInput([{"field": "/at", "message": message}], "the action is not valid")
        values = _by_hand(row, outcome, at, schedule)
        conn.execute(update(notices).where(notices.c.id == notice_id).values(**values))
        detail = {"note": note} if note else {}
        _event(conn, notice_id, at, outcome, detail, principal.email)
        audit = {"outcome": outcome, "at": _iso(at)}
        append(conn, principal.email, principal.org_id, "notice.action", f"notice:{notice_id}", audit)
    return get_notice(db, principal, notice_id, audited=False)


# -- the runner -----------------------------------------------------------------------------------
@dataclass
class _Plan:
    """What a check means for a notice: column changes, events, and whether a notice goes out."""

    values: dict
    events: list[tuple[str, dict]]
    send: bool = False


def _plan(row, result: CheckResult, now: datetime, schedule: Schedule) -> _Plan:
    """The transition for one check (pure: the runner does the sending and writing)."""
    values = {"last_checked_at": now, "last_check_result": result.state}
    events = [(f"check_{result.state}", {"detail": result.detail})]
    plan = _Plan(values, events)
    if row.state in ACTIVE:
        if result.state == "online":
            plan.send = True
        elif result.state == "removed":
            values.update(state="removed", removed_at=now, outcome="content_removed")
            values["next_check_at"] = now + schedule.watch_every
            events.append(("content_removed", {"detail": result.detail}))
        elif result.state == "moved":
            values.update(state="moved", outcome="moved", next_check_at=None)
            events.append(("moved", {"location": result.location}))
        else:  # unavailable or error: try again later, no notice to a host we cannot see
            values["next_check_at"] = now + schedule.retry_after
    elif row.state == "removed":
        if result.state == "online":
            values.update(state="reappeared", reappeared_at=now, removed_at=None)
            values["reappearances"] = notices.c.reappearances + 1
            events.append(("reappeared", {"removed_at": _iso(row.removed_at)}))
            plan.send = True
        else:
            watched_until = (row.removed_at or now) + schedule.watch_for
            later = now + schedule.watch_every
            values["next_check_at"] = later if later <= watched_until else None
    else:  # closed or moved meanwhile: nothing more to do
        values["next_check_at"] = None
    return plan


def _sent(row, plan: _Plan, sent: SendResult, now: datetime, schedule: Schedule) -> None:
    """Fold a notice's delivery into the plan: sent, the repeats are scheduled; failed, retried."""
    if sent.ok:
        plan.values.update(  # counted in SQL: a notice a person records meanwhile is not lost
            notices_sent=notices.c.notices_sent + 1,
            first_notice_at=func.coalesce(notices.c.first_notice_at, now),
            last_notice_at=now,
            next_check_at=now + schedule.repeat_every,
            outcome="notice_to_host",
        )
        if plan.values.get("state", row.state) == "pending":
            plan.values["state"] = "notified"
        detail = {"channel": sent.channel, "detail": sent.detail, "notice": row.notices_sent + 1}
        plan.events.append(("notice_to_host", detail))
    else:
        plan.values["next_check_at"] = now + schedule.retry_after
        plan.events.append(("notice_failed", {"channel": sent.channel, "detail": sent.detail}))


def _payload(row, hashes: list[dict], now: datetime) -> dict:
    """The notice the host receives: references, the URL and the file hashes; never content."""
    return {
        "type": "vigil.takedown-notice",
        "version": 1,
        "reference": row.reference,
        "report": f"{row.org_name}/{row.report_id}",
        "from": row.org_name,
        "url": row.url,
        "hosting_country": row.hosting_country,
        "hashes": hashes,
        "notice": row.notices_sent + 1,
        "first_notice_at": _iso(row.first_notice_at),
        "sent_at": _iso(now),
    }


_DUE = (
    select(notices, Organisation.name.label("org_name"))
    .join(Organisation, Organisation.id == notices.c.org_id)
    .where(notices.c.next_check_at.is_not(None))
)


def _claim(db: Database, row, now: datetime, schedule: Schedule) -> list[dict] | None:
    """Take the notice for this run (its next check moved a lease ahead, if nobody else moved it);
    its report's file hashes, or None when another runner has it."""
    with db.engine.begin() as conn:
        taken = conn.execute(
            update(notices)
            .where(notices.c.id == row.id, notices.c.next_check_at == row.next_check_at)
            .values(next_check_at=now + schedule.lease)
        ).rowcount
        if not taken:
            return None
        files = repo.file_rows(conn, row.report_id)
    hashes = [{k: getattr(f, k) for k in ("md5", "sha1", "sha256") if getattr(f, k)} for f in files]
    return [h for h in hashes if h]


_FACTS = ("last_checked_at", "last_check_result", "notices_sent", "first_notice_at", "last_notice_at")


def _apply(db: Database, row, plan: _Plan, now: datetime) -> None:
    """Write what happened: the sending facts always (it went out), the state change only if no
    person changed the state while the check ran; events and the audit row with it."""
    with db.engine.begin() as conn:
        current = conn.execute(select(notices.c.state).where(notices.c.id == row.id)).scalar()
        if current is None:  # its report was deleted meanwhile
            return
        values = plan.values
        if current != row.state:
            values = {k: v for k, v in values.items() if k in _FACTS}
        conn.execute(update(notices).where(notices.c.id == row.id).values(**values))
        for action, detail in plan.events:
            _event(conn, row.id, now, action, detail, RUNNER)
        audit = {"events": [action for action, _ in plan.events], "url": row.url[:200]}
        append(conn, RUNNER, row.org_id, "notice.run", f"notice:{row.id}", audit)


def _run_one(db: Database, row, now: datetime, checker, sender, schedule: Schedule) -> _Plan | None:
    hashes = _claim(db, row, now, schedule)
    if hashes is None:
        return None
    try:
        result = checker(row.url, [v for h in hashes for v in h.values()])
    except Exception as exc:  # noqa: BLE001 - a plugged-in checker's bug must not stop the run
        result = CheckResult("error", f"the checker failed ({type(exc).__name__})")
    plan = _plan(row, result, now, schedule)
    if plan.send:
        try:
            sent = sender(row.contact, _payload(row, hashes, now))
        except Exception as exc:  # noqa: BLE001 - likewise a plugged-in sender's
            sent = SendResult(False, "?", f"the sender failed ({type(exc).__name__})")
        _sent(row, plan, sent, now, schedule)
    _apply(db, row, plan, now)
    return plan


_COUNTED = {  # event -> the run summary's count
    "notice_to_host": "sent",
    "notice_failed": "failed",
    "content_removed": "removed",
    "reappeared": "reappeared",
    "moved": "moved",
    "check_unavailable": "unavailable",
    "check_error": "error",
}


def run_due(
    db: Database,
    now: datetime | None = None,
    checker=None,
    sender=None,
    schedule: Schedule = DEFAULT_SCHEDULE,
    limit: int = 1000,
    progress=None,
    org_id: int | None = None,
    allow_private: bool = False,
) -> dict:
    """Check every notice due by `now` (default: now), oldest due first, at most `limit` (only
    organisation `org_id`'s, if given); send the notices that are due; answer counts of what
    happened. `progress(done, total)` is called after each notice, for a progress display."""
    now = now or utcnow()
    checker = checker or HttpChecker(allow_private=allow_private)
    sender = sender or HttpSender(allow_private=allow_private)
    with db.engine.connect() as conn:
        first = and_(  # the first notice's delay is the run's: a pending notice never checked
            notices.c.state == "pending",
            notices.c.last_checked_at.is_(None),
            notices.c.created_at <= now - schedule.first_notice_after,
        )
        query = _DUE.where(or_(notices.c.next_check_at <= now, first))
        query = query.order_by(notices.c.next_check_at).limit(limit)
        if org_id is not None:
            query = query.where(notices.c.org_id == org_id)
        due = conn.execute(query).all()
    summary = dict.fromkeys(("due", "checked", "skipped", *dict.fromkeys(_COUNTED.values())), 0)
    summary["due"] = len(due)
    for i, row in enumerate(due):
        plan = _run_one(db, row, now, checker, sender, schedule)
        summary["skipped" if plan is None else "checked"] += 1
        for action, _ in plan.events if plan else ():
            if action in _COUNTED:
                summary[_COUNTED[action]] += 1
        if progress is not None:
            progress(i + 1, len(due))
    return summary


# -- statistics -----------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile (a value that occurred: "90% were removed within this")."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def _summary(key: str, rows: list[tuple[datetime | None, datetime]]) -> dict:
    hours = [max(0.0, (removed - start).total_seconds() / 3600) for removed, start in rows if removed]
    return {
        "key": key,
        "notices": len(rows),
        "removed": len(hours),
        "removed_within_7_days": sum(1 for h in hours if h <= 7 * 24),
        "median_hours": round(statistics.median(hours), 1) if hours else None,
        "p90_hours": round(percentile(hours, 0.9), 1) if hours else None,
    }


def stats(db: Database, principal: Principal, since: str = "report") -> dict:
    """Time to removal of the organisation's notices, from the report's receipt (`since="report"`,
    what hotlines publish) or from the notice's creation (`"notice"`): overall, per hosting country
    and per provider. A URL that re-appeared counts as removed only once it is gone again."""
    require(principal, "reports:read", "this token may not read notices (scope reports:read)")
    if since not in ("report", "notice"):
        raise InvalidInput([{"field": "/since", "message": "report or notice"}], "the query is not valid")
    start = Report.received_at if since == "report" else notices.c.created_at
    query = (
        select(notices.c.hosting_country, notices.c.provider, notices.c.removed_at, start.label("start"))
        .join(Report, Report.id == notices.c.report_id)
        .where(notices.c.org_id == principal.org_id)
    )
    with db.engine.begin() as conn:
        rows = conn.execute(query).all()
        append(conn, principal.email, principal.org_id, "notice.stats", "notices", {"since": since})
    groups: dict[str, dict[str, list]] = {"hosting_country": {}, "provider": {}}
    for row in rows:
        groups["hosting_country"].setdefault(row.hosting_country, []).append((row.removed_at, row.start))
        groups["provider"].setdefault(row.provider, []).append((row.removed_at, row.start))
    return {
        "since": since,
        "overall": _summary("all", [(r.removed_at, r.start) for r in rows]),
        "by_country": [_summary(k, v) for k, v in sorted(groups["hosting_country"].items())],
        "by_provider": [_summary(k, v) for k, v in sorted(groups["provider"].items())],
    }


__all__ = [
    "OUTCOMES",
    "STATES",
    "Schedule",
    "check_input",
    "create_notice",
    "get_notice",
    "list_notices",
    "record_action",
    "run_due",
    "stats",
]

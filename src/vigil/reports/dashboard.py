"""The dashboard's figures for one organisation: its reports and those shared with it, over the last
7, 30 or 90 days (whole UTC days, today included). All counting is done in SQL (COUNT, SUM and GROUP
BY over the reports and their files); what SQL cannot portably do (read a JSON list of hash-set
matches, a median) is done here on bounded, already grouped rows. The statements are the same on
SQLite and PostgreSQL: `date()` is a function in both (text on SQLite, a date on PostgreSQL, made
text here), and on PostgreSQL they go out in one round trip (roundtrips.read_all). Reading the
dashboard is audited once per view.

What is shown:
- reports received per day and per channel (api, public, forward);
- of the files received, how many came labelled automatically: with an earlier assessment of the
  organisation (`prior`), with a hash-set match only, or with neither (assessed by hand);
- the open queue (status new, any age) by age, and its oldest report;
- files matched per hash set (each set counted once per file), read from at most MAX_FILES of the
  latest matched files of the period: `hashsets_truncated` says when there were more;
- time from a report's receipt to the confirmed removal of its content, per hosting country, for
  the organisation's notices created in the period (median and nearest-rank 90th percentile over
  those removed; notices still online are counted, not timed)."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, and_, case, column, func, literal_column, select, table

from vigil.reports import repository as repo
from vigil.reports.accounts import Principal
from vigil.reports.errors import InvalidInput, require
from vigil.store.audit import append
from vigil.store.db import Database, utcnow
from vigil.store.models import Report, ReportFile
from vigil.store.roundtrips import read_all

PERIODS = (7, 30, 90)  # days a dashboard covers
DEFAULT_DAYS = 30
CHANNELS = ("api", "public", "forward")  # in this order; any other channel follows, by name
MAX_FILES = 50_000  # latest matched files read for hits per hash set
MAX_NOTICES = 100_000  # latest notices read for time to removal
MAX_SETS = 100  # hash sets listed, most hits first
HOUR = timedelta(hours=1)
AGES = (  # (label, reports received less than this long ago; None: any older)
    ("< 1 h", HOUR),
    ("1–24 h", 24 * HOUR),
    ("1–7 d", 7 * 24 * HOUR),
    ("> 7 d", None),
)

# notice and takedown's table (migration 0011; vigil.exchange.notices, a layer above, defines it in
# full): only the columns read here
_notices = table(
    "notices",
    column("id", Integer),
    column("org_id", Integer),
    column("report_id", Integer),
    column("hosting_country", String),
    column("created_at", DateTime),
    column("removed_at", DateTime),
)


@dataclass(frozen=True)
class FilesLabelled:
    total: int = 0  # files received in the period
    prior: int = 0  # with an earlier assessment by the organisation
    match_only: int = 0  # with a hash-set match and no earlier assessment
    matched: int = 0  # with a hash-set match (with or without an earlier assessment)

    @property
    def automatic(self) -> int:
        return self.prior + self.match_only

    @property
    def by_hand(self) -> int:
        return self.total - self.automatic

    @property
    def share(self) -> float | None:
        """Percentage labelled automatically, one decimal; None without files."""
        return round(100 * self.automatic / self.total, 1) if self.total else None


@dataclass(frozen=True)
class QueueAge:
    buckets: list[tuple[str, int]]  # AGES' labels in order, with the open reports of each age
    open: int
    oldest_id: int | None = None
    oldest_seconds: int | None = None


@dataclass(frozen=True)
class Removal:
    country: str
    notices: int
    removed: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Dashboard:
    days: int
    since: datetime  # start of the first day (UTC, naive)
    now: datetime
    day_labels: list[str]  # YYYY-MM-DD, oldest first
    per_day: dict[str, list[int]]  # channel -> reports per day
    per_channel: dict[str, int]  # channel -> reports in the period
    reports: int
    files: FilesLabelled
    queue: QueueAge
    hashset_hits: list[tuple[str, int]]  # (set name, files matched), most first
    hashsets_read: int  # matched files read for hashset_hits
    hashsets_truncated: bool  # more matched files than MAX_FILES in the period
    hashsets_more: int  # sets beyond MAX_SETS, not listed
    removal: list[Removal] = field(default_factory=list)
    notices_truncated: bool = False


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile (a value that occurred), as vigil.exchange.notices.percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def check_days(days: int) -> int:
    if days not in PERIODS:
        problem = {"field": "days", "message": f"one of {', '.join(str(d) for d in PERIODS)}"}
        raise InvalidInput([problem], "the period is not valid")
    return days


def _queries(org_id: int, since: datetime, now: datetime) -> list[tuple]:
    seen = repo.visible(org_id)
    in_period = and_(seen, Report.received_at >= since)
    day = func.date(Report.received_at)
    per_day = (
        select(day.label("day"), Report.channel, func.count().label("n"))
        .where(in_period)
        .group_by(day, Report.channel)
    )
    has_prior = ReportFile.prior.is_not(None)
    has_match = and_(ReportFile.matches.is_not(None), ReportFile.matches != "[]")

    def counted(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    files = (
        select(
            func.count().label("total"),
            counted(has_prior).label("prior"),
            counted(and_(~has_prior, has_match)).label("match_only"),
            counted(has_match).label("matched"),
        )
        .select_from(ReportFile)
        .join(Report, Report.id == ReportFile.report_id)
        .where(in_period)
    )
    whens = [
        (Report.received_at > now - limit, literal_column(str(i)))
        for i, (_, limit) in enumerate(AGES)
        if limit
    ]
    bucket = case(*whens, else_=literal_column(str(len(AGES) - 1))).label("bucket")
    ages = (  # grouped by the label: its bound times are not repeated in GROUP BY
        select(bucket, func.count().label("n"))
        .where(seen, Report.status == "new")
        .group_by(literal_column("bucket"))
    )
    oldest = (
        select(Report.id, Report.received_at)
        .where(seen, Report.status == "new")
        .order_by(Report.received_at, Report.id)
        .limit(1)
    )
    latest_matched = (
        select(ReportFile.matches)
        .join(Report, Report.id == ReportFile.report_id)
        .where(in_period, has_match)
        .order_by(ReportFile.id.desc())
        .limit(MAX_FILES)
        .subquery()
    )
    # identical match lists (the common case: one set, one signal) are read and parsed once
    matches = select(latest_matched.c.matches, func.count().label("n")).group_by(latest_matched.c.matches)
    notices = (
        select(_notices.c.hosting_country, _notices.c.removed_at, Report.received_at)
        .join(Report, Report.id == _notices.c.report_id)
        .where(_notices.c.org_id == org_id, _notices.c.created_at >= since)
        .order_by(_notices.c.id.desc())
        .limit(MAX_NOTICES + 1)
    )
    return [(q, {}) for q in (per_day, files, ages, oldest, matches, notices)]


def _per_day(rows, labels: list[str]) -> tuple[dict[str, list[int]], dict[str, int]]:
    index = {label: i for i, label in enumerate(labels)}
    channels = list(CHANNELS) + sorted({r.channel for r in rows if r.channel not in CHANNELS})
    per_day = {c: [0] * len(labels) for c in channels}
    for r in rows:
        label = r.day.isoformat() if hasattr(r.day, "isoformat") else str(r.day)[:10]
        if label in index:
            per_day[r.channel][index[label]] += int(r.n)
    return per_day, {c: sum(counts) for c, counts in per_day.items()}


def _hits(rows) -> tuple[list[tuple[str, int]], int]:
    """(set name, files matched) from (matches JSON, files) rows: each set once per file."""
    hits: dict[str, int] = {}
    read = 0
    for text, n in rows:
        read += n
        try:
            found = json.loads(text)
        except (TypeError, ValueError):
            continue
        names = {
            str(m["hashset"])[:200] for m in found if isinstance(m, dict) and m.get("hashset") is not None
        } if isinstance(found, list) else set()  # fmt: skip
        for name in names:
            hits[name] = hits.get(name, 0) + n
    return sorted(hits.items(), key=lambda kv: (-kv[1], kv[0])), read


def _removal(rows) -> list[Removal]:
    groups: dict[str, list] = {}
    for country, removed_at, received_at in rows:
        groups.setdefault(country or "??", []).append((removed_at, received_at))
    out = []
    for country, pairs in sorted(groups.items()):
        hours = [max(0.0, (r - start).total_seconds() / 3600) for r, start in pairs if r and start]
        out.append(
            Removal(
                country,
                len(pairs),
                len(hours),
                round(statistics.median(hours), 1) if hours else None,
                round(percentile(hours, 0.9), 1) if hours else None,
            )
        )
    return out


def summary(
    db: Database, principal: Principal, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> Dashboard:
    """The dashboard of `principal`'s organisation over the last `days` days (one of PERIODS); audited."""
    require(principal, "reports:read", "this account may not read reports (scope reports:read)")
    check_days(days)
    now = now or utcnow()
    since = datetime(now.year, now.month, now.day) - timedelta(days=days - 1)
    labels = [(since + timedelta(days=i)).date().isoformat() for i in range(days)]
    with db.engine.begin() as conn:
        per_day, files, ages, oldest, matches, notices = read_all(
            conn, _queries(principal.org_id, since, now)
        )
        append(conn, principal.email, principal.org_id, "dashboard.read", "dashboard", {"days": days})
    day_counts, per_channel = _per_day(per_day, labels)
    f = files[0] if files else None
    labelled = FilesLabelled(*(int(v or 0) for v in f)) if f is not None else FilesLabelled()
    counts = [0] * len(AGES)
    for row in ages:
        counts[int(row.bucket)] += int(row.n)
    first = oldest[0] if oldest else None
    queue = QueueAge(
        [(label, counts[i]) for i, (label, _) in enumerate(AGES)],
        sum(counts),
        first.id if first else None,
        max(0, int((now - first.received_at).total_seconds())) if first else None,
    )
    hits, read = _hits(matches)
    return Dashboard(
        days=days,
        since=since,
        now=now,
        day_labels=labels,
        per_day=day_counts,
        per_channel=per_channel,
        reports=sum(per_channel.values()),
        files=labelled,
        queue=queue,
        hashset_hits=hits[:MAX_SETS],
        hashsets_read=read,
        hashsets_truncated=labelled.matched > MAX_FILES,
        hashsets_more=max(0, len(hits) - MAX_SETS),
        removal=_removal(notices[:MAX_NOTICES]),
        notices_truncated=len(notices) > MAX_NOTICES,
    )

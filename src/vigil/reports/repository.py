"""The report service's SQL, in one place: statements built once (no per-request expression building)
and each use case's reads and writes as small functions over a Connection in the caller's
transaction. Nothing here checks permissions or shapes answers; the use-case modules do."""

from __future__ import annotations

import json
from contextlib import contextmanager
from functools import cache, lru_cache

from sqlalchemy import String, and_, bindparam, exists, insert, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from vigil.store.audit import lock_chain
from vigil.store.checkpoint import sqlite_write_queue
from vigil.store.db import Database
from vigil.store.models import (
    Classification,
    Organisation,
    Report,
    ReportFile,
    ReportKey,
    ReportShare,
    User,
)

HASH_KINDS = ("md5", "sha1", "sha256", "pdq")
MAX_LINKS = 100  # linked reports listed per report (the earliest ones)
MAX_PRIORS = 10_000  # earlier classifications read per report (the latest ones)


# -- transactions ---------------------------------------------------------------------------------
@contextmanager
def intake_transaction(db: Database):
    """One transaction in which link-and-de-duplicate is atomic: nobody else can store a report
    between reading the earlier reports and committing the new ones. The lock is the audit chain's
    (taken before the first read and held to the commit; the group's audit rows then need no other):
    PostgreSQL's advisory lock, SQLite's write lock. On SQLite, processes first queue on a lock file
    next to the database (woken as soon as it is free) rather than in SQLite's sleep-and-retry busy
    handler, which made the slowest requests wait tens of milliseconds with two workers."""
    with sqlite_write_queue(db), db.engine.begin() as conn:
        lock_chain(conn)
        yield conn


# -- intake ---------------------------------------------------------------------------------------
MAX_KEYS_PER_QUERY = 2000  # keys looked up per statement (a larger single report goes alone)


@lru_cache(maxsize=256)
def _links_sql(shape: tuple[tuple[int, int, int], ...]):
    """For reports (index, organisation, number of keys): one index search per key (equality on
    org_id, kind and value, used whatever the planner's statistics say), then per report the
    MAX_LINKS earliest reports sharing a key. Index and organisation are integers written into the
    text (two bound values per key keep a 10,000-file report under SQLite's limit)."""
    each, n = [], 0
    for idx, org, count in shape:
        for _ in range(count):
            each.append(
                f"SELECT {int(idx)} AS idx, report_id FROM report_keys "
                f"WHERE org_id = {int(org)} AND kind = :k{n} AND value = :v{n}"
            )
            n += 1
    return text(
        "SELECT idx, report_id, shared FROM ("
        "SELECT k.idx, k.report_id, count(*) AS shared, "
        "row_number() OVER (PARTITION BY k.idx ORDER BY k.report_id) AS n "
        f"FROM ({' UNION ALL '.join(each)}) k JOIN reports r ON r.id = k.report_id "
        "WHERE r.status != 'repeat' GROUP BY k.idx, k.report_id) t WHERE n <= :limit"
    )


def find_links(conn: Connection, wanted: list[tuple[int, set[tuple[str, str]]]]) -> list[dict[int, int]]:
    """For each (organisation, link keys): {earlier report id: keys it shares} for the MAX_LINKS
    earliest non-repeat reports of the organisation sharing a key; one query for many reports
    (however often a URL was reported, each report gets at most MAX_LINKS rows)."""
    out: list[dict[int, int]] = [{} for _ in wanted]
    chunk: list[int] = []
    size = 0
    for i, (_, keys) in enumerate(wanted):
        if chunk and size + len(keys) > MAX_KEYS_PER_QUERY:
            _links_chunk(conn, wanted, chunk, out)
            chunk, size = [], 0
        if keys:
            chunk.append(i)
            size += len(keys)
    if chunk:
        _links_chunk(conn, wanted, chunk, out)
    return out


def _links_chunk(conn: Connection, wanted: list, chunk: list[int], out: list[dict]) -> None:
    shape = tuple((i, wanted[i][0], len(wanted[i][1])) for i in chunk)
    params: dict = {"limit": MAX_LINKS}
    n = 0
    for i in chunk:
        for kind, value in sorted(wanted[i][1]):
            params[f"k{n}"], params[f"v{n}"] = kind, value
            n += 1
    for idx, report_id, shared in conn.execute(_links_sql(shape), params):
        out[idx][report_id] = shared


_EARLIER_HASHES = text(
    "SELECT DISTINCT value FROM report_keys WHERE org_id = :org AND kind = 'hash' AND value IN :values"
).bindparams(bindparam("values", expanding=True))


def earlier_hash_keys(conn: Connection, org_id: int, wanted: set[str]) -> set[str]:
    """Which `kind:value` hash keys are in an earlier report of the organisation."""
    if not wanted:
        return set()
    return set(conn.execute(_EARLIER_HASHES, {"org": org_id, "values": sorted(wanted)}).scalars())


@cache
def _priors_sql():
    file = aliased(ReportFile)
    visible = or_(
        Classification.org_id == bindparam("org"),
        exists().where(
            and_(ReportShare.report_id == Classification.report_id, ReportShare.org_id == bindparam("org"))
        ),
    )
    wanted = or_(*(getattr(file, k).in_(bindparam(k, expanding=True, type_=String)) for k in HASH_KINDS))
    return (
        select(
            file.md5, file.sha1, file.sha256, file.pdq, file.report_id,
            Classification.labels, Classification.created_at, User.email, Organisation.name,
        )
        .join(file, file.id == Classification.file_id)
        .join(User, User.id == Classification.user_id)
        .join(Organisation, Organisation.id == Classification.org_id)
        .where(wanted, visible)
        .order_by(Classification.id.desc())
        .limit(MAX_PRIORS)
    )  # fmt: skip


def priors(conn: Connection, org_id: int, files: list[dict]) -> list[dict | None]:
    """For each file, the latest earlier classification (by any of its hashes) that the organisation
    made or was shared; one query for all the files."""
    hashes = [{k: v.lower() for k, v in (f.get("hashes") or {}).items()} for f in files]
    params = {k: sorted({h[k] for h in hashes if k in h}) or ["-"] for k in HASH_KINDS}
    if not any(hashes):
        return [None] * len(files)
    out: list[dict | None] = [None] * len(files)
    for row in conn.execute(_priors_sql(), {"org": org_id, **params}):
        for i, h in enumerate(hashes):
            if out[i] is None and any(getattr(row, k) == v for k, v in h.items()):
                out[i] = {
                    "labels": json.loads(row.labels),
                    "by": row.email,
                    "organisation": row.name,
                    "at": row.created_at.isoformat() + "Z",
                    "report": row.report_id,
                }
        if all(o is not None or not h for o, h in zip(out, hashes, strict=True)):
            break
    return out


_INSERT_REPORTS = insert(Report)
_INSERT_FILES = insert(ReportFile)
_INSERT_KEYS = insert(ReportKey)
_COUNT_REPEATS = (
    update(Report).where(Report.id == bindparam("rid")).values(repeats=Report.repeats + bindparam("n"))
)


def next_report_ids(conn: Connection, n: int) -> list[int]:
    """`n` new report ids, increasing, for rows inserted later in this transaction (which holds the
    intake lock, so no other writer takes ids meanwhile). PostgreSQL: from the id sequence; SQLite:
    after the largest id (what it would give each row)."""
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        sql = "SELECT nextval(pg_get_serial_sequence('reports', 'id')) FROM generate_series(1, :n)"
        return sorted(conn.execute(text(sql), {"n": n}).scalars())
    top = conn.execute(text("SELECT coalesce(max(id), 0) FROM reports")).scalar()
    return list(range(top + 1, top + 1 + n))


def report_writes(reports: list[dict], files: list[dict], keys: list[dict], repeats: dict[int, int]) -> list:
    """(statement, rows) to store reports (with their ids), their files and link keys, and to add to
    each repeated report's count of reports that merely repeat it; for insert_all."""
    writes = [(_INSERT_REPORTS, reports), (_INSERT_FILES, files), (_INSERT_KEYS, keys)]
    writes.append((_COUNT_REPEATS, [{"rid": rid, "n": n} for rid, n in sorted(repeats.items())]))
    return [(statement, rows) for statement, rows in writes if rows]


def insert_all(conn: Connection, writes: list[tuple]) -> None:
    """Run (statement, rows) in order, answers unread. On PostgreSQL they are sent together in one
    psycopg pipeline (one round trip for the lot: each statement on its own waited for the server, and
    the intake lock was held through every wait); elsewhere one executemany each."""
    if conn.dialect.name != "postgresql":
        for statement, rows in writes:
            conn.execute(statement, rows)
        return
    compiled = [(_pg_sql(statement, conn.dialect, tuple(rows[0])), rows) for statement, rows in writes]
    raw = conn.connection.driver_connection
    with raw.pipeline(), raw.cursor() as cursor:
        for sql, rows in compiled:
            cursor.executemany(sql, rows)


@lru_cache(maxsize=32)
def _pg_sql(statement, dialect, keys: tuple[str, ...]) -> str:
    """The statement as psycopg takes it (%(name)s placeholders) for rows with `keys` (an insert
    names exactly those columns), compiled once. Rows carry every value: the models' Python-side
    defaults are not applied here (the only one, reports.repeats, intake sets itself)."""
    return str(statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True))


_ORG_COUNTRY = text("SELECT country FROM organisations WHERE id = :id").columns(country=String)


def org_country(conn: Connection, org_id: int | None) -> str:
    return conn.execute(_ORG_COUNTRY, {"id": org_id}).scalar() or ""


# -- reading --------------------------------------------------------------------------------------
def visible(org_id: int):
    """Reports an organisation may read: its own and those shared with it."""
    return or_(
        Report.org_id == org_id,
        exists().where(and_(ReportShare.report_id == Report.id, ReportShare.org_id == org_id)),
    )


def report_row(conn: Connection, org_id: int, report_id: int):
    return conn.execute(select(Report.__table__).where(Report.id == report_id, visible(org_id))).first()


def file_rows(conn: Connection, report_id: int) -> list:
    return conn.execute(
        select(ReportFile.__table__).where(ReportFile.report_id == report_id).order_by(ReportFile.position)
    ).all()


def decisions(conn: Connection, org_id: int, report_id: int) -> list:
    """The organisation's classifications of the report, oldest first, with who made them."""
    return conn.execute(
        select(Classification.file_id, Classification.labels, Classification.created_at, User.email)
        .join(User, User.id == Classification.user_id)
        .where(Classification.report_id == report_id, Classification.org_id == org_id)
        .order_by(Classification.id)
    ).all()


def linked(conn: Connection, org_id: int, report_id: int) -> tuple[list[int], list[int]]:
    """(earlier reports it links to, as intake answered; later reports that link to it, repeats
    included), each the first MAX_LINKS the organisation may read."""
    mine, other = aliased(ReportKey), aliased(ReportKey)
    base = (
        select(other.report_id)
        .join(mine, and_(mine.org_id == other.org_id, mine.kind == other.kind, mine.value == other.value))
        .join(Report, Report.id == other.report_id)
        .where(mine.report_id == report_id, visible(org_id))
        .distinct()
        .order_by(other.report_id)
        .limit(MAX_LINKS)
    )
    earlier = base.where(other.report_id < report_id, Report.status != "repeat")
    later = base.where(other.report_id > report_id)
    return list(conn.execute(earlier).scalars()), list(conn.execute(later).scalars())


def queue_rows(conn: Connection, org_id: int, limit: int) -> list:
    return conn.execute(
        select(
            Report.id, Report.received_at, Report.priority, Report.priority_rules, Report.completeness,
            Report.repeats, Report.linked_to, Report.org_id,
        )
        .where(visible(org_id), Report.status == "new")
        .order_by(Report.priority.desc(), Report.id)
        .limit(limit)
    ).all()  # fmt: skip


# -- decisions ------------------------------------------------------------------------------------
def can_read(conn: Connection, org_id: int, report_id: int) -> bool:
    return conn.execute(select(Report.id).where(Report.id == report_id, visible(org_id))).first() is not None


def owns(conn: Connection, org_id: int, report_id: int) -> bool:
    query = select(Report.id).where(Report.id == report_id, Report.org_id == org_id)
    return conn.execute(query).first() is not None


def file_id(conn: Connection, report_id: int, position: int) -> int | None:
    return conn.execute(
        select(ReportFile.id).where(ReportFile.report_id == report_id, ReportFile.position == position)
    ).scalar()


def add_classification(conn: Connection, row: dict, assessed_by_org: int | None) -> None:
    """Record a decision; a decision on the whole report marks the owner's report assessed."""
    conn.execute(insert(Classification).values(**row))
    if assessed_by_org is not None:
        conn.execute(
            update(Report)
            .where(Report.id == row["report_id"], Report.org_id == assessed_by_org)
            .values(status="assessed")
        )


def org_id_by_name(conn: Connection, name: str) -> int | None:
    return conn.execute(select(Organisation.id).where(Organisation.name == name)).scalar()


def add_share(conn: Connection, report_id: int, org_id: int) -> None:
    """Share the report with the organisation (once)."""
    shared = select(ReportShare).where(ReportShare.report_id == report_id, ReportShare.org_id == org_id)
    if conn.execute(shared).first() is None:
        conn.execute(insert(ReportShare).values(report_id=report_id, org_id=org_id))

"""The report service's SQL, in one place: statements built once (no per-request expression building)
and each use case's reads and writes as small functions over a Connection in the caller's
transaction. Nothing here checks permissions or shapes answers; the use-case modules do."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import String, and_, any_, bindparam, exists, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from vigil.store.audit import LAST_HASH, last_hash_of, lock_query
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
from vigil.store.roundtrips import read_all

HASH_KINDS = ("md5", "sha1", "sha256", "pdq")
MAX_LINKS = 100  # linked reports listed per report (the earliest ones)
MAX_PRIORS = 10_000  # earlier classifications read per report (the latest ones)


# -- transactions ---------------------------------------------------------------------------------
@contextmanager
def intake_transaction(db: Database):
    """One transaction in which link-and-de-duplicate is atomic: nobody else can store a report
    between reading the earlier reports and committing the new ones. The lock is the audit chain's
    (taken by `intake_reads` before the first read and held to the commit; the group's audit rows
    then need no other): PostgreSQL's advisory lock, SQLite's write lock. On SQLite, processes first
    queue on a lock file next to the database (woken as soon as it is free) rather than in SQLite's
    sleep-and-retry busy handler, which made the slowest requests wait tens of milliseconds with two
    workers."""
    with sqlite_write_queue(db), db.engine.begin() as conn:
        yield conn


@dataclass(frozen=True)
class Earlier:
    """What intake reads, with the chain locked, before it decides anything."""

    priors: dict[int, list[dict | None]]  # per organisation: per file given, its latest prior
    links: list[dict[int, int]]  # per (organisation, keys) given: {earlier report: keys shared}
    ids: list[int]  # ids for the new reports, increasing
    last_hash: str  # the audit chain's, for the group's audit rows


def intake_reads(
    conn: Connection, files: dict[int, list[dict]], wanted: list[tuple[int, set]], n: int
) -> Earlier:
    """Lock the audit chain, then read the organisations' earlier classifications of `files`, the
    earlier reports sharing each of `wanted`'s keys, `n` new report ids and the chain's last hash:
    on PostgreSQL in one round trip (roundtrips.read_all; every read is queued behind the lock)."""
    queries = [lock_query(conn)]
    orgs = [org for org in files if any(f.get("hashes") for f in files[org])]
    queries += [_priors_query(conn, org, files[org]) for org in orgs]
    chunks = _links_chunks(wanted)
    queries += [_links_query(conn, wanted, chunk) for chunk in chunks]
    queries += [_ids_query(conn, n), (LAST_HASH, {})]
    rows = iter(read_all(conn, queries)[1:])
    priors = {org: [None] * len(fs) for org, fs in files.items()}
    for org in orgs:
        priors[org] = _priors_of(files[org], next(rows))
    links: list[dict[int, int]] = [{} for _ in wanted]
    for _ in chunks:
        for idx, report_id, shared in next(rows):
            links[idx][report_id] = links[idx].get(report_id, 0) + shared  # a split report's pieces add up
    ids = _ids_of(conn, next(rows), n)
    return Earlier(priors, links, ids, last_hash_of(next(rows)))


# -- intake ---------------------------------------------------------------------------------------
MAX_KEYS_PER_QUERY = 500  # keys looked up per statement: SQLite's limit of terms in a compound SELECT


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


_LINKS_PG = text(
    "SELECT idx, report_id, shared FROM ("
    "SELECT w.idx, k.report_id, count(*) AS shared, "
    "row_number() OVER (PARTITION BY w.idx ORDER BY k.report_id) AS n "
    "FROM unnest(CAST(:idx AS integer[]), CAST(:org AS integer[]), CAST(:kind AS text[]), "
    "CAST(:value AS text[])) AS w(idx, org, kind, value) "
    "JOIN report_keys k ON k.org_id = w.org AND k.kind = w.kind AND k.value = w.value "
    "JOIN reports r ON r.id = k.report_id "
    "WHERE r.status != 'repeat' GROUP BY w.idx, k.report_id) t WHERE n <= :limit"
)  # PostgreSQL: the keys as arrays, so one statement text (planned once per connection) for any group


def _links_chunks(wanted: list[tuple[int, set]]) -> list[list[tuple[int, list]]]:
    """The reports' keys, as (report index, keys) pieces in chunks of at most MAX_KEYS_PER_QUERY keys:
    one query each. A report with more keys than that is split over several chunks (its counts are
    added up by the caller). SQLite allows at most 500 terms in a compound SELECT, one per key here:
    a batch of 200 reports with three keys each, or one report of 600 files, failed before."""
    chunks: list[list[tuple[int, list]]] = []
    size = MAX_KEYS_PER_QUERY
    for i, (_, keys) in enumerate(wanted):
        rest = sorted(keys)
        while rest:
            if size >= MAX_KEYS_PER_QUERY:
                chunks.append([])
                size = 0
            take = rest[: MAX_KEYS_PER_QUERY - size]
            chunks[-1].append((i, take))
            size += len(take)
            rest = rest[len(take) :]
    return chunks


def _links_query(conn: Connection, wanted: list, chunk: list[tuple[int, list]]) -> tuple:
    """For the pieces of `chunk`, each (report index, keys) of an organisation's report: rows (index,
    earlier report id, keys it shares) for the MAX_LINKS earliest non-repeat reports of the
    organisation sharing a key (however often a URL was reported, each report gets at most MAX_LINKS
    rows)."""
    keys = [(i, wanted[i][0], kind, value) for i, piece in chunk for kind, value in piece]
    if conn.dialect.name == "postgresql":
        idx, org, kind, value = (list(column) for column in zip(*keys, strict=True))
        return _LINKS_PG, {"idx": idx, "org": org, "kind": kind, "value": value, "limit": MAX_LINKS}
    params: dict = {"limit": MAX_LINKS}
    for n, (_, _, kind, value) in enumerate(keys):
        params[f"k{n}"], params[f"v{n}"] = kind, value
    return _links_sql(tuple((i, wanted[i][0], len(piece)) for i, piece in chunk)), params


_EARLIER_HASHES = text(
    "SELECT DISTINCT value FROM report_keys WHERE org_id = :org AND kind = 'hash' AND value IN :values"
).bindparams(bindparam("values", expanding=True))


def earlier_hash_keys(conn: Connection, org_id: int, wanted: set[str]) -> set[str]:
    """Which `kind:value` hash keys are in an earlier report of the organisation."""
    if not wanted:
        return set()
    return set(conn.execute(_EARLIER_HASHES, {"org": org_id, "values": sorted(wanted)}).scalars())


@lru_cache(maxsize=2)
def _priors_sql(dialect: str):
    """Latest classifications first of files with any of the hashes given (one list per kind):
    `IN (...)` on SQLite, `= ANY(array)` on PostgreSQL (one statement text whatever the count, as
    a pipelined statement needs)."""
    file = aliased(ReportFile)
    visible = or_(
        Classification.org_id == bindparam("org"),
        exists().where(
            and_(ReportShare.report_id == Classification.report_id, ReportShare.org_id == bindparam("org"))
        ),
    )
    if dialect == "postgresql":
        wanted = or_(*(getattr(file, k) == any_(bindparam(k, type_=ARRAY(String))) for k in HASH_KINDS))
    else:
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


def _lowered(files: list[dict]) -> list[dict[str, str]]:
    return [{k: v.lower() for k, v in (f.get("hashes") or {}).items()} for f in files]


def _priors_query(conn: Connection, org_id: int, files: list[dict]) -> tuple:
    """The organisation's earlier classifications (made or shared with it) of any of the files'
    hashes, latest first; one query for all the files."""
    hashes = _lowered(files)
    params = {k: sorted({h[k] for h in hashes if k in h}) or ["-"] for k in HASH_KINDS}
    return _priors_sql(conn.dialect.name), {"org": org_id, **params}


def _priors_of(files: list[dict], rows: list) -> list[dict | None]:
    """For each file, the latest of `rows` (from _priors_query) that has any of its hashes."""
    hashes = _lowered(files)
    out: list[dict | None] = [None] * len(files)
    for row in rows:
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


# the sequence of reports.id (SERIAL); by name, as looking it up took most of the statement's time
_NEXT_IDS = text("SELECT nextval('reports_id_seq') FROM generate_series(1, :n)")
_TOP_ID = text("SELECT coalesce(max(id), 0) FROM reports")


def _ids_query(conn: Connection, n: int) -> tuple:
    """New report ids, for rows inserted later in this transaction (which holds the intake lock, so
    no other writer takes ids meanwhile). PostgreSQL: `n` from the id sequence; SQLite: the largest
    id (the rows get the ids after it, as SQLite would give them)."""
    return (_NEXT_IDS, {"n": n}) if conn.dialect.name == "postgresql" else (_TOP_ID, {})


def _ids_of(conn: Connection, rows: list, n: int) -> list[int]:
    if conn.dialect.name == "postgresql":
        return sorted(row[0] for row in rows)
    top = rows[0][0]
    return list(range(top + 1, top + 1 + n))


def report_writes(reports: list[dict], files: list[dict], keys: list[dict], repeats: dict[int, int]) -> list:
    """(statement, rows) to store reports (with their ids), their files and link keys, and to add to
    each repeated report's count of reports that merely repeat it; for roundtrips.write_all."""
    writes = [(_INSERT_REPORTS, reports), (_INSERT_FILES, files), (_INSERT_KEYS, keys)]
    writes.append((_COUNT_REPEATS, [{"rid": rid, "n": n} for rid, n in sorted(repeats.items())]))
    return [(statement, rows) for statement, rows in writes if rows]


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

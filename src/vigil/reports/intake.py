"""Report intake, in two steps.

`prepare` (no database): may this caller submit; does every report follow the template; how complete
is it; which files match a hash set; what links it to other reports. `store` (one transaction for one
or several prepared requests): label files assessed before, find earlier reports that share a key,
decide new or repeat, prioritise, insert, audit. De-duplication is atomic: the transaction holds the
audit chain's lock (repository.intake_reads) from before the first read to the commit,
so two workers receiving the same report at once store one `new` and one `repeat`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from vigil.reports import completeness, priority, template, urls
from vigil.reports import repository as repo
from vigil.reports.errors import InvalidInput, require
from vigil.store import audit as audit_log
from vigil.store.db import Database, utcnow
from vigil.store.roundtrips import write_all

MAX_BATCH = 1000  # reports per batch


def link_keys(body: dict) -> set[tuple[str, str]]:
    """What links this report to others: its URLs, its file hashes, the reported account."""
    keys = {("url", urls.normalise(u)[:500]) for u in (body.get("channel") or {}).get("urls", [])}
    for f in body.get("files") or []:
        for kind, value in (f.get("hashes") or {}).items():
            keys.add(("hash", f"{kind}:{value.lower()}"))
    person = body.get("reportedPerson") or {}
    if person.get("profileUrl"):
        keys.add(("account", urls.normalise(person["profileUrl"])[:500]))
    if person.get("screenName"):
        keys.add(("account", f"{(person.get('service') or '').lower()}|{person['screenName'].lower()}"[:500]))
    return keys


@dataclass(frozen=True)
class Prepared:
    """One report that follows the template, with what could be known before the transaction."""

    body: dict
    score: int
    missing: list[dict]
    matches: list[list[dict]]  # per file: hash-set matches
    keys: set[tuple[str, str]]


@dataclass(frozen=True)
class Job:
    """One request: a report, or a batch that is stored all or nothing."""

    actor: str  # the submitting user's e-mail, or "public"
    user_id: int | None
    org_id: int
    org_country: str | None  # None: read in the transaction
    channel: str
    reports: list[Prepared]


def prepare(principal, bodies: list, channel: str, public_org: int | None, batch: bool, checker) -> Job:
    """Check a request before anything is stored: the scope, the template (every problem of every
    report, as /reports/N/... in a batch), then completeness, hash-set matches and link keys."""
    if principal is not None:
        require(principal, "reports:write", "this token may not submit reports (scope reports:write)")
    if batch and not 1 <= len(bodies) <= MAX_BATCH:
        raise InvalidInput([{"field": "/reports", "message": f"1 to {MAX_BATCH} reports per batch"}])
    problems = [
        {**p, "field": f"/reports/{i}" + p["field"].rstrip("/") if batch else p["field"]}
        for i, body in enumerate(bodies)
        for p in template.validate(body)
    ]
    if problems:
        raise InvalidInput(problems)
    prepared = []
    for body in bodies:
        score, missing = completeness.assess(body)
        matches = check_files(checker, body.get("files") or [])
        prepared.append(Prepared(body, score, missing, matches, link_keys(body)))
    if principal is None:
        return Job("public", None, public_org, None, channel, prepared)
    return Job(principal.email, principal.user_id, principal.org_id, principal.org_country, channel, prepared)


def check_files(checker, files: list[dict]) -> list[list[dict]]:
    """Each file's hash-set matches, by any of its hashes (one look-up per signal for all files)."""
    out: list[list[dict]] = [[] for _ in files]
    by_signal: dict[str, list[tuple[int, str]]] = {}
    for i, f in enumerate(files):
        for kind, value in (f.get("hashes") or {}).items():
            by_signal.setdefault(kind, []).append((i, value.lower()))
    for kind, pairs in by_signal.items():
        results = checker.check([v for _, v in pairs], signal=kind)
        for (i, _), result in zip(pairs, results, strict=True):
            out[i].extend(m for m in result["matches"] if m not in out[i])
    return out


def store(db: Database, rules: tuple, jobs: list[Job]) -> list[list[dict]]:
    """Store the jobs' reports in one transaction, each audited in it; per job, the answers. On
    PostgreSQL the transaction is two round trips whatever the group's size: the lock and every
    read, then every write and the commit."""
    with repo.intake_transaction(db) as conn:
        results, writes = decide(conn, rules, jobs)
        write_all(conn, writes)
    return results


WARM_LOCK_WAIT_MS = 200  # a warm-up that cannot have the write lock by then is skipped


def warm(db: Database, rules: tuple) -> None:
    """Intake of the template's first example, rolled back, so the first request finds the
    connection open and every statement compiled (and on PostgreSQL prepared). The report gets id
    -1: no id is taken from PostgreSQL's sequence. Nothing to do before an organisation exists.
    It waits at most WARM_LOCK_WAIT_MS for the write lock (an import may hold it for minutes): a
    server starts as fast busy or not, and its first request then does the work."""
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        patience = conn.exec_driver_sql("PRAGMA busy_timeout").scalar() if sqlite else None
        try:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={WARM_LOCK_WAIT_MS}")
            else:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{WARM_LOCK_WAIT_MS}ms'")
            org = conn.execute(text("SELECT min(id) FROM organisations")).scalar()
            if org is not None:
                body = template.report_schema()["examples"][0]
                files = body.get("files") or []
                report = Prepared(body, *completeness.assess(body), [[] for _ in files], link_keys(body))
                job = Job("warm-up", None, org, None, "api", [report])
                write_all(conn, decide(conn, rules, [job], ids=[-1])[1], commit=False)
        except DBAPIError:
            pass  # the write lock is busy: skipped
        finally:
            conn.rollback()
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={int(patience)}")


def decide(conn: Connection, rules: tuple, jobs: list[Job], ids: list[int] | None = None) -> tuple:
    """With the chain locked (intake_reads): (per job, the answers; every write of the group, its
    audit rows last). `ids`: the reports' ids, instead of new ones from the database."""
    places = [(j, r) for j, job in enumerate(jobs) for r in range(len(job.reports))]
    files: dict[int, list[dict]] = {}
    for j, r in places:
        files.setdefault(jobs[j].org_id, []).extend(jobs[j].reports[r].body.get("files") or [])
    wanted = [(jobs[j].org_id, jobs[j].reports[r].keys) for j, r in places]
    earlier = repo.intake_reads(conn, files, wanted, len(places) if ids is None else 0)
    group = _Group(conn, rules, earlier.ids if ids is None else ids)
    priors = {org: iter(found) for org, found in earlier.priors.items()}
    links = iter(earlier.links)
    results = []
    for job in jobs:
        answers = []
        for report in job.reports:
            # intake adds no classification: each file's prior is the same for every report
            prior = [next(priors[job.org_id]) for _ in report.body.get("files") or []]
            answers.append(group.add(job, report, prior, next(links)))
        results.append(answers)
    audit = [
        (job.actor, job.org_id, "report.create", f"report:{answer['id']}", {"channel": job.channel})
        for job, answers in zip(jobs, results, strict=True)
        for answer in answers
    ]
    return results, [*group.writes(), (audit_log.INSERT, audit_log.chained(earlier.last_hash, audit))]


class _Group:
    """The reports of one transaction, given their ids in advance. Their rows, files and link keys
    are inserted at the end in one statement each, so later reports of the group are linked to
    earlier ones here, exactly as the query links them to reports of earlier transactions."""

    def __init__(self, conn: Connection, rules: tuple, ids: list[int]):
        self.conn, self.rules, self.ids = conn, rules, iter(ids)
        self.members: list[tuple[int, int, set, bool]] = []  # (id, org, keys, is a repeat)
        self.reports: list[dict] = []
        self.files: list[dict] = []
        self.keys: list[dict] = []
        self.repeats: dict[int, int] = {}

    def links(self, org_id: int, keys: set, earlier: dict[int, int]) -> dict[int, int]:
        """{earlier non-repeat report: keys shared}, the MAX_LINKS earliest: those of earlier
        transactions (`earlier`, read for the whole group at its start) and of this group."""
        shared = dict(earlier)
        for rid, org, member_keys, repeat in self.members:
            if org == org_id and not repeat and keys & member_keys:
                shared[rid] = len(keys & member_keys)
        return dict(sorted(shared.items())[: repo.MAX_LINKS])

    def earlier_hashes(self, org_id: int, wanted: set[str]) -> set[str]:
        found = repo.earlier_hash_keys(self.conn, org_id, wanted)
        for _, org, member_keys, _ in self.members:
            if org == org_id:
                found |= {value for kind, value in member_keys if kind == "hash"} & wanted
        return found

    def add(self, job: Job, report: Prepared, priors: list, earlier: dict[int, int]) -> dict:
        files = report.body.get("files") or []
        shared = self.links(job.org_id, report.keys, earlier)
        # every key of the new report is on one earlier report: nothing new, a repeat of it
        repeat_of = min((rid for rid, n in shared.items() if n == len(report.keys)), default=None)
        known = sum(1 for i in range(len(files)) if report.matches[i] or priors[i])
        # no earlier report shares a key (the common case): no file was in one, no query needed
        seen = self._seen(job.org_id, report, priors) if shared and known < len(files) else known
        country = job.org_country if job.org_country is not None else repo.org_country(self.conn, job.org_id)
        context = priority.Context(report.body, known, len(shared), country, seen)
        value, fired = priority.score(context, self.rules)
        status = "repeat" if repeat_of else "new"
        report_id = next(self.ids)
        self.reports.append(
            {
                "id": report_id,
                "org_id": job.org_id,
                "received_at": utcnow(),
                "channel": job.channel,
                "created_by": job.user_id,
                "body": json.dumps(report.body),
                "completeness": report.score,
                "missing": json.dumps(report.missing),
                "priority": value,
                "priority_rules": json.dumps(fired),
                "status": status,
                "linked_to": repeat_of or (min(shared) if shared else None),
                "repeats": 0,
            }
        )
        self.members.append((report_id, job.org_id, report.keys, bool(repeat_of)))
        self.files += _file_rows(report_id, files, report.matches, priors)
        self.keys += [
            {"report_id": report_id, "org_id": job.org_id, "kind": k, "value": v} for k, v in report.keys
        ]
        if repeat_of:
            self.repeats[repeat_of] = self.repeats.get(repeat_of, 0) + 1
        return {
            "id": report_id,
            "status": status,
            "repeat_of": repeat_of,
            "linked_to": sorted(shared),
            "completeness": {"score": report.score, "missing": report.missing},
            "priority": {"score": value, "rules": fired},
            "files": [
                {"position": i, "matches": report.matches[i], "prior": priors[i]} for i in range(len(files))
            ],
        }

    def _seen(self, org_id: int, report: Prepared, priors: list) -> int:
        """Files seen before: matched a hash set, assessed before, or in an earlier report of this
        organisation (by any of their hashes). The rest is content never seen before."""
        files = report.body.get("files") or []
        hashes = [{f"{k}:{v.lower()}" for k, v in (f.get("hashes") or {}).items()} for f in files]
        earlier = self.earlier_hashes(org_id, set().union(*hashes) if hashes else set())
        return sum(1 for i in range(len(files)) if report.matches[i] or priors[i] or hashes[i] & earlier)

    def writes(self) -> list[tuple]:
        """(statement, rows) for the group's reports, files, link keys and repeat counts, in order."""
        return repo.report_writes(self.reports, self.files, self.keys, self.repeats)


def _file_rows(report_id: int, files: list[dict], matches: list, priors: list) -> list[dict]:
    return [
        {
            "report_id": report_id,
            "position": i,
            "file_name": f.get("fileName"),
            **{k: (f.get("hashes") or {}).get(k, "").lower() or None for k in repo.HASH_KINDS},
            "matches": json.dumps(matches[i]),
            "prior": json.dumps(priors[i]) if priors[i] else None,
        }
        for i, f in enumerate(files)
    ]

"""The report use cases: intake (validate, score completeness, check hashes, label what was assessed
before, link and de-duplicate, prioritise), read, queue, classify and share — each checked against
who is asking and written to the audit log in the same transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from vigil.errors import NotFoundError, VigilError
from vigil.reports import classification, completeness, priority, template, urls
from vigil.reports.accounts import Principal
from vigil.reports.hashcheck import HashChecker
from vigil.signals import SIGNALS
from vigil.store.audit import append
from vigil.store.db import Database, utcnow
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
MAX_BATCH = 1000  # reports per batch


class InvalidInput(VigilError):
    """The input breaks the template or the classification schema; `problems` name each field."""

    def __init__(self, problems: list[dict], title: str = "the report does not follow the template"):
        problems = problems[: template.MAX_PROBLEMS]
        self.problems, self.title = problems, title
        super().__init__(f"{title}: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5]))


class Forbidden(VigilError):
    """Authenticated, but not allowed to do this (HTTP 403)."""


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


@dataclass
class ReportService:
    db: Database
    checker: HashChecker
    rules: tuple = ()

    def __post_init__(self):
        self.rules = self.rules or priority.default_rules()

    # -- intake -----------------------------------------------------------------------------------
    def intake(
        self, principal: Principal | None, body, channel: str = "api", public_org: int | None = None
    ) -> dict:
        """Store one report; returns its id, completeness, file matches and priority with reasons."""
        return self._intake(principal, [body], channel, public_org, "")[0]

    def intake_batch(
        self, principal: Principal | None, bodies: list, channel: str = "api", public_org: int | None = None
    ) -> list[dict]:
        """Store 1 to MAX_BATCH reports in one transaction: all of them, or none (every problem of
        every report is named as /reports/N/...)."""
        if not 1 <= len(bodies) <= MAX_BATCH:
            raise InvalidInput([{"field": "/reports", "message": f"1 to {MAX_BATCH} reports per batch"}])
        return self._intake(principal, bodies, channel, public_org, "/reports/{}")

    def _intake(
        self, principal: Principal | None, bodies: list, channel: str, public_org: int | None, where: str
    ) -> list[dict]:
        if principal is not None and not principal.can("reports:write"):
            raise Forbidden("this token may not submit reports (scope reports:write)")
        problems = [
            {**p, "field": where.format(i) + p["field"].rstrip("/") if where else p["field"]}
            for i, body in enumerate(bodies)
            for p in template.validate(body)
        ]
        if problems:
            raise InvalidInput(problems)
        checked = [(completeness.assess(b), self._check_files(b.get("files") or [])) for b in bodies]
        org_id = principal.org_id if principal else public_org
        with self.db.engine.begin() as conn:  # one transaction for the batch: all or nothing
            org_country = (
                conn.execute(select(Organisation.country).where(Organisation.id == org_id)).scalar() or ""
            )
            results = [
                self._store(conn, principal, org_id, org_country, body, assessed, checks, channel)
                for body, (assessed, checks) in zip(bodies, checked, strict=True)
            ]
            # audited last: the audit lock is held only to the commit, and a failure while storing
            # leaves no rolled-back audit rows (PostgreSQL would skip their ids: a false "deleted")
            actor = principal.email if principal else "public"
            for r in results:
                append(conn, actor, org_id, "report.create", f"report:{r['id']}", {"channel": channel})
            return results

    def _store(
        self, conn: Connection, principal, org_id, org_country: str, body, assessed, checks, channel: str
    ) -> dict:
        score, missing = assessed
        files = body.get("files") or []
        priors = self._priors(conn, org_id, files)
        keys = link_keys(body)
        linked, repeat_of = self._links(conn, org_id, keys)
        known = sum(1 for i in range(len(files)) if checks[i] or priors[i])
        # no earlier report shares a key (the common case): no file was in one, no query needed
        seen = (
            self._seen_files(conn, org_id, files, checks, priors) if linked and known < len(files) else known
        )
        context = priority.Context(body, known, len(linked), org_country, seen)
        value, fired = priority.score(context, self.rules)
        report_id = conn.execute(
            insert(Report).values(
                org_id=org_id,
                received_at=utcnow(),
                channel=channel,
                created_by=principal.user_id if principal else None,
                body=json.dumps(body),
                completeness=score,
                missing=json.dumps(missing),
                priority=value,
                priority_rules=json.dumps(fired),
                status="repeat" if repeat_of else "new",
                linked_to=repeat_of or (min(linked) if linked else None),
                repeats=0,
            )
        ).inserted_primary_key[0]
        if files:
            conn.execute(
                insert(ReportFile),
                [
                    {
                        "report_id": report_id,
                        "position": i,
                        "file_name": f.get("fileName"),
                        **{k: (f.get("hashes") or {}).get(k, "").lower() or None for k in HASH_KINDS},
                        "matches": json.dumps(checks[i]),
                        "prior": json.dumps(priors[i]) if priors[i] else None,
                    }
                    for i, f in enumerate(files)
                ],
            )
        if keys:
            conn.execute(
                insert(ReportKey),
                [{"report_id": report_id, "org_id": org_id, "kind": k, "value": v} for k, v in keys],
            )
        if repeat_of:
            conn.execute(update(Report).where(Report.id == repeat_of).values(repeats=Report.repeats + 1))
        return {
            "id": report_id,
            "status": "repeat" if repeat_of else "new",
            "repeat_of": repeat_of,
            "linked_to": sorted(linked),
            "completeness": {"score": score, "missing": missing},
            "priority": {"score": value, "rules": fired},
            "files": [{"position": i, "matches": checks[i], "prior": priors[i]} for i in range(len(files))],
        }

    def _seen_files(self, conn: Connection, org_id, files: list[dict], checks, priors) -> int:
        """Files seen before: matched a hash set, assessed before, or in an earlier report of this
        organisation (by any of their hashes). The rest is content never seen before."""
        hashes = [{f"{k}:{v.lower()}" for k, v in (f.get("hashes") or {}).items()} for f in files]
        wanted = set().union(*hashes) if hashes else set()
        earlier = set()
        if wanted:
            earlier = set(
                conn.execute(
                    select(ReportKey.value)
                    .where(ReportKey.org_id == org_id, ReportKey.kind == "hash")
                    .where(ReportKey.value.in_(sorted(wanted)))
                    .distinct()
                ).scalars()
            )
        return sum(1 for i in range(len(files)) if checks[i] or priors[i] or hashes[i] & earlier)

    def _check_files(self, files: list[dict]) -> list[list[dict]]:
        wanted = [
            (i, kind, v.lower()) for i, f in enumerate(files) for kind, v in (f.get("hashes") or {}).items()
        ]
        out: list[list[dict]] = [[] for _ in files]
        if not wanted:
            return out
        by_signal: dict[str, list[tuple[int, str]]] = {}
        for i, kind, v in wanted:
            by_signal.setdefault(kind, []).append((i, v))
        for kind, pairs in by_signal.items():
            results = self.checker.check([v for _, v in pairs], signal=kind)
            for (i, _), result in zip(pairs, results, strict=True):
                out[i].extend(m for m in result["matches"] if m not in out[i])
        return out

    def _priors(self, conn: Connection, org_id: int, files: list[dict]) -> list[dict | None]:
        """The latest earlier classification of each file (by any of its hashes) that this
        organisation made or was shared: it is labelled with it and needs no new viewing."""
        out: list[dict | None] = []
        for f in files:
            hashes = {k: v.lower() for k, v in (f.get("hashes") or {}).items()}
            if not hashes:
                out.append(None)
                continue
            same = or_(*(getattr(ReportFile, k) == v for k, v in hashes.items()))
            visible = or_(
                Classification.org_id == org_id,
                exists().where(
                    and_(ReportShare.report_id == Classification.report_id, ReportShare.org_id == org_id)
                ),
            )
            row = conn.execute(
                select(
                    Classification.labels,
                    Classification.created_at,
                    User.email,
                    Organisation.name,
                    ReportFile.report_id,
                )
                .join(ReportFile, ReportFile.id == Classification.file_id)
                .join(User, User.id == Classification.user_id)
                .join(Organisation, Organisation.id == Classification.org_id)
                .where(same, visible)
                .order_by(Classification.id.desc())
                .limit(1)
            ).first()
            out.append(
                None
                if row is None
                else {
                    "labels": json.loads(row.labels),
                    "by": row.email,
                    "organisation": row.name,
                    "at": row.created_at.isoformat() + "Z",
                    "report": row.report_id,
                }
            )
        return out

    def _links(self, conn: Connection, org_id: int, keys: set) -> tuple[set[int], int | None]:
        """(up to MAX_LINKS earliest reports sharing a key, the report this one merely repeats or None).
        Counted in the database: a URL reported ten thousand times costs one grouped query."""
        if not keys:
            return set(), None
        shared = func.count().label("shared")
        rows = conn.execute(
            select(ReportKey.report_id, shared)
            .join(Report, Report.id == ReportKey.report_id)
            .where(ReportKey.org_id == org_id, Report.status != "repeat")
            .where(or_(*(and_(ReportKey.kind == k, ReportKey.value == v) for k, v in keys)))
            .group_by(ReportKey.report_id)
            .order_by(ReportKey.report_id)
            .limit(MAX_LINKS)
        ).all()
        own = {r.report_id: r.shared for r in rows}
        # every key of the new report is on one earlier report: nothing new, a repeat of it
        repeat = min((rid for rid, n in own.items() if n == len(keys)), default=None)
        return set(own), repeat

    # -- hash check -------------------------------------------------------------------------------
    def check_hashes(self, hashes: list[str], signal: str | None = None) -> list[dict]:
        """`POST /v1/hash-check`: with `signal`, every hash must have that signal's width."""
        if signal:
            width = SIGNALS[signal].hex_length
            problems = [
                {
                    "field": f"/hashes/{i}",
                    "message": f"{len(h)} hex digits is not a {signal} hash ({signal} has {width}; "
                    f"see /signal)",
                }
                for i, h in enumerate(hashes)
                if len(h) != width
            ]
            if problems:
                raise InvalidInput(problems, f"the hashes are not all {signal}")
        return self.checker.check(hashes, signal)

    # -- reading ----------------------------------------------------------------------------------
    def _visible(self, principal: Principal):
        return or_(
            Report.org_id == principal.org_id,
            exists().where(and_(ReportShare.report_id == Report.id, ReportShare.org_id == principal.org_id)),
        )

    def get(self, principal: Principal, report_id: int) -> dict:
        if not principal.can("reports:read"):
            raise Forbidden("this token may not read reports (scope reports:read)")
        with self.db.engine.begin() as conn:
            report = conn.execute(
                select(Report.__table__).where(Report.id == report_id, self._visible(principal))
            ).first()
            if report is None:  # not there, or not this organisation's: the same answer
                raise NotFoundError(f"no report {report_id}")
            files = conn.execute(
                select(ReportFile.__table__)
                .where(ReportFile.report_id == report_id)
                .order_by(ReportFile.position)
            ).all()
            decisions = conn.execute(
                select(Classification.file_id, Classification.labels, Classification.created_at, User.email)
                .join(User, User.id == Classification.user_id)
                .where(Classification.report_id == report_id, Classification.org_id == principal.org_id)
                .order_by(Classification.id)
            ).all()
            earlier, later = self._linked(conn, principal, report_id)
            append(conn, principal.email, principal.org_id, "report.read", f"report:{report_id}")
        position = {f.id: f.position for f in files}
        return {
            "id": report.id,
            "received_at": report.received_at.isoformat() + "Z",
            "channel": report.channel,
            "status": report.status,
            "report": json.loads(report.body),
            "completeness": {"score": report.completeness, "missing": json.loads(report.missing)},
            "priority": {"score": report.priority, "rules": json.loads(report.priority_rules)},
            "linked_to": earlier,
            "linked_from": later,
            "repeat_of": report.linked_to if report.status == "repeat" else None,
            "repeats": report.repeats,
            "files": [
                {
                    "position": f.position,
                    "matches": json.loads(f.matches),
                    "prior": json.loads(f.prior) if f.prior else None,
                }
                for f in files
            ],
            "classifications": [
                {
                    "file": position.get(d.file_id),
                    "labels": json.loads(d.labels),
                    "by": d.email,
                    "at": d.created_at.isoformat() + "Z",
                }
                for d in decisions
            ],
        }

    def _linked(self, conn: Connection, principal: Principal, report_id: int) -> tuple[list, list]:
        """(earlier reports this one links to, as intake answered; later reports that link to it,
        repeats included), each the first MAX_LINKS that `principal` may see."""
        mine, other = aliased(ReportKey), aliased(ReportKey)
        base = (
            select(other.report_id)
            .join(
                mine,
                and_(mine.org_id == other.org_id, mine.kind == other.kind, mine.value == other.value),
            )
            .join(Report, Report.id == other.report_id)
            .where(mine.report_id == report_id, self._visible(principal))
            .distinct()
            .order_by(other.report_id)
            .limit(MAX_LINKS)
        )
        earlier = base.where(other.report_id < report_id, Report.status != "repeat")
        later = base.where(other.report_id > report_id)
        return list(conn.execute(earlier).scalars()), list(conn.execute(later).scalars())

    def queue(self, principal: Principal, limit: int = 100) -> list[dict]:
        if not principal.can("reports:read"):
            raise Forbidden("this token may not read reports (scope reports:read)")
        with self.db.engine.begin() as conn:
            rows = conn.execute(
                select(
                    Report.id,
                    Report.received_at,
                    Report.priority,
                    Report.priority_rules,
                    Report.completeness,
                    Report.repeats,
                    Report.linked_to,
                    Report.org_id,
                )
                .where(self._visible(principal), Report.status == "new")
                .order_by(Report.priority.desc(), Report.id)
                .limit(limit)
            ).all()
            append(
                conn, principal.email, principal.org_id, "queue.read", "queue", {"ids": [r.id for r in rows]}
            )
        return [
            {
                "id": r.id,
                "received_at": r.received_at.isoformat() + "Z",
                "priority": r.priority,
                "rules": json.loads(r.priority_rules),
                "completeness": r.completeness,
                "repeats": r.repeats,
                "linked_to": r.linked_to,
                "shared": r.org_id != principal.org_id,
            }
            for r in rows
        ]

    # -- decisions --------------------------------------------------------------------------------
    def classify(self, principal: Principal, report_id: int, labels, file: int | None = None) -> dict:
        if not principal.can("reports:classify"):
            raise Forbidden("this token may not classify (scope reports:classify)")
        problems = classification.check(labels)
        if problems:
            raise InvalidInput(problems, "the classification does not follow the schema")
        with self.db.engine.begin() as conn:
            if (
                conn.execute(
                    select(Report.id).where(Report.id == report_id, self._visible(principal))
                ).first()
                is None
            ):
                raise NotFoundError(f"no report {report_id}")
            file_id = None
            if file is not None:
                file_id = conn.execute(
                    select(ReportFile.id).where(
                        ReportFile.report_id == report_id, ReportFile.position == file
                    )
                ).scalar()
                if file_id is None:
                    raise InvalidInput(
                        [{"field": "/file", "message": f"report {report_id} has no file {file}"}]
                    )
            now = utcnow()
            conn.execute(
                insert(Classification).values(
                    report_id=report_id,
                    file_id=file_id,
                    user_id=principal.user_id,
                    org_id=principal.org_id,
                    labels=json.dumps(labels, sort_keys=True),
                    created_at=now,
                )
            )
            if file is None:
                conn.execute(
                    update(Report)
                    .where(Report.id == report_id, Report.org_id == principal.org_id)
                    .values(status="assessed")
                )
            append(
                conn,
                principal.email,
                principal.org_id,
                "report.classify",
                f"report:{report_id}",
                {"file": file, "labels": labels},
            )
        return {
            "report": report_id,
            "file": file,
            "labels": labels,
            "scales": classification.mapped(labels),
            "by": principal.email,
            "at": now.isoformat() + "Z",
        }

    def share(self, principal: Principal, report_id: int, org_name: str) -> dict:
        if not principal.can("reports:share") or principal.role == "analyst":
            raise Forbidden("sharing reports needs a supervisor or admin (scope reports:share)")
        with self.db.engine.begin() as conn:
            if (
                conn.execute(
                    select(Report.id).where(Report.id == report_id, Report.org_id == principal.org_id)
                ).first()
                is None
            ):
                raise NotFoundError(f"no report {report_id}")
            target = conn.execute(select(Organisation.id).where(Organisation.name == org_name)).scalar()
            if target is None:
                raise InvalidInput(
                    [{"field": "/organisation", "message": f"no organisation named {org_name!r}"}]
                )
            if (
                conn.execute(
                    select(ReportShare).where(
                        ReportShare.report_id == report_id, ReportShare.org_id == target
                    )
                ).first()
                is None
            ):
                conn.execute(insert(ReportShare).values(report_id=report_id, org_id=target))
            append(
                conn,
                principal.email,
                principal.org_id,
                "report.share",
                f"report:{report_id}",
                {"with": org_name},
            )
        return {"report": report_id, "shared_with": org_name}

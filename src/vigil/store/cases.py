"""Case repository: reading a scanned case (a scan builds and names it: vigil.store.scanruns)."""

from __future__ import annotations

import json

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy import case as sa_case

from vigil.store.audit import append
from vigil.store.db import Database, utcnow
from vigil.store.models import Case, CaseItem

_COLUMNS = (
    "path",
    "size",
    "type",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "duplicate_group",
    "error",
    "known",
    "duration",
    "vpdq_frames",
)


class CaseRepository:
    def __init__(self, db: Database):
        self.db = db

    def existing(self, name: str) -> dict | None:
        """{"source", "scanned_at"} (naive UTC) of the case `name`, or None when there is none."""
        with self.db.engine.connect() as conn:
            row = conn.execute(select(Case.source, Case.scanned_at).where(Case.name == name)).first()
        return None if row is None else {"source": row.source, "scanned_at": row.scanned_at}

    def load(self, name: str) -> dict | None:
        with self.db.engine.connect() as conn:
            case = conn.execute(select(Case.__table__).where(Case.name == name)).first()
            if case is None:
                return None
            rows = conn.execute(
                select(CaseItem.__table__).where(CaseItem.case_id == case.id).order_by(CaseItem.path)
            ).all()
        items = []
        for r in rows:
            item = {k: getattr(r, k) for k in _COLUMNS}
            item["matches"] = json.loads(r.matches)
            item["flags"] = json.loads(r.flags or "[]")
            items.append(item)
        return {
            "case": case.name,
            "source": case.source,
            "scan": json.loads(case.provenance or "{}"),  # {} for a case scanned before 0009
            "summary": json.loads(case.summary),
            "skipped": json.loads(case.skipped or "[]"),
            "items": items,
        }


# -- the case pages of the web UI (vigil.scan.assess): one page of a case at a time ------------------

NO_MATCH = "[]"  # `matches` of an item that matched nothing (json.dumps([]))
_TILE_COLUMNS = (
    "id",
    "path",
    "type",
    "size",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "duplicate_group",
    "error",
    "known",
    "category",
    "assessed_by",
    "assessed_at",
)


def _row(r) -> dict:
    out = {k: getattr(r, k) for k in _TILE_COLUMNS}
    out["matches"] = json.loads(r.matches or NO_MATCH)
    out["flags"] = json.loads(r.flags or "[]")
    return out


def _representatives(case_id: int):
    """One item id per duplicate group: its first member that matched, else its first member."""
    first_hit = func.min(sa_case((CaseItem.matches != NO_MATCH, CaseItem.id)))
    return (
        select(func.coalesce(first_hit, func.min(CaseItem.id)))
        .where(CaseItem.case_id == case_id, CaseItem.duplicate_group.is_not(None))
        .group_by(CaseItem.duplicate_group)
    )


def _decoded():
    """Not flagged `not-a-valid-…` (vigil.scan.hashing.NOT_VALID): a picture that decoded."""
    return or_(CaseItem.flags.is_(None), CaseItem.flags.not_like('%"not-a-valid-%'))


def _reviewable(case_id: int):
    """The items a person reviews in the grid: hits, and pictures (images, videos) that could be
    read and are on no known-good set; of a duplicate group only its representative."""
    picture = or_(CaseItem.type.like("image/%"), CaseItem.type.like("video/%"))
    return and_(
        CaseItem.case_id == case_id,
        or_(CaseItem.duplicate_group.is_(None), CaseItem.id.in_(_representatives(case_id))),
        or_(
            CaseItem.matches != NO_MATCH,
            and_(picture, CaseItem.error.is_(None), CaseItem.known.is_(None), _decoded()),
        ),
    )


class CaseQueries:
    """Reads and the assessment write of the case pages, bounded so a case of 100,000 items is as
    fast as one of ten: nothing here loads every item."""

    def __init__(self, db: Database):
        self.db = db

    def cases(self) -> list[dict]:
        """Every case (newest first) with its summary and how many of its items are assessed."""
        assessed = (
            select(CaseItem.case_id, func.count().label("n"))
            .where(CaseItem.category.is_not(None))
            .group_by(CaseItem.case_id)
            .subquery()
        )
        query = (
            select(Case.id, Case.name, Case.source, Case.scanned_at, Case.summary, assessed.c.n)
            .outerjoin(assessed, assessed.c.case_id == Case.id)
            .where(Case.name.is_not(None))  # a case a scan is still building has no name yet
            .order_by(Case.scanned_at.desc(), Case.id.desc())
        )
        with self.db.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {
                "id": r.id,
                "name": r.name,
                "source": r.source,
                "scanned_at": r.scanned_at,
                "summary": json.loads(r.summary),
                "assessed": r.n or 0,
            }
            for r in rows
        ]

    def header(self, name: str) -> dict | None:
        """The case `name` without its items: id, source, time, summary, provenance, skipped count,
        assessed count; None when there is none."""
        with self.db.engine.connect() as conn:
            case = conn.execute(select(Case.__table__).where(Case.name == name)).first()
            if case is None:
                return None
            assessed = conn.execute(
                select(func.count()).where(CaseItem.case_id == case.id, CaseItem.category.is_not(None))
            ).scalar()
        return {
            "id": case.id,
            "name": case.name,
            "source": case.source,
            "threshold": case.threshold,
            "scanned_at": case.scanned_at,
            "summary": json.loads(case.summary),
            "scan": json.loads(case.provenance or "{}"),
            "skipped": len(json.loads(case.skipped or "[]")),
            "assessed": assessed or 0,
        }

    def hits(self, case_id: int, limit: int) -> list[dict]:
        """Up to `limit` reviewable items that matched (unsorted: the caller orders by severity)."""
        query = (
            select(CaseItem.__table__)
            .where(_reviewable(case_id), CaseItem.matches != NO_MATCH)
            .order_by(CaseItem.id)
            .limit(limit)
        )
        with self.db.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def count_reviewable(self, case_id: int) -> tuple[int, int]:
        """(reviewable items, of them assessed)."""
        query = select(func.count(), func.count(CaseItem.category)).where(_reviewable(case_id))
        with self.db.engine.connect() as conn:
            total, assessed = conn.execute(query).one()
        return total, assessed

    def others(self, case_id: int, offset: int, limit: int) -> list[dict]:
        """Reviewable items that matched nothing, by path: `limit` from `offset`."""
        query = (
            select(CaseItem.__table__)
            .where(_reviewable(case_id), CaseItem.matches == NO_MATCH)
            .order_by(CaseItem.path, CaseItem.id)
            .offset(offset)
            .limit(limit)
        )
        with self.db.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def flagged(self, case_id: int, limit: int) -> tuple[list[dict], int]:
        """Up to `limit` items with flags (hidden, altered, encrypted, …) by path, and how many."""
        where = and_(CaseItem.case_id == case_id, CaseItem.flags.is_not(None), CaseItem.flags != "[]")
        query = select(CaseItem.__table__).where(where).order_by(CaseItem.path, CaseItem.id).limit(limit)
        with self.db.engine.connect() as conn:
            rows = [_row(r) for r in conn.execute(query)]
            total = conn.execute(select(func.count()).where(where)).scalar() or 0
        return rows, total

    def errors(self, case_id: int, limit: int) -> list[dict]:
        query = (
            select(CaseItem.__table__)
            .where(CaseItem.case_id == case_id, CaseItem.error.is_not(None))
            .order_by(CaseItem.path, CaseItem.id)
            .limit(limit)
        )
        with self.db.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def groups(self, case_id: int, limit: int) -> list[dict]:
        """Up to `limit` duplicate groups (largest first): number, size, representative item, and
        whether a member matched."""
        size = func.count().label("size")
        query = (
            select(
                CaseItem.duplicate_group,
                size,
                func.coalesce(
                    func.min(sa_case((CaseItem.matches != NO_MATCH, CaseItem.id))), func.min(CaseItem.id)
                ),
                func.count(sa_case((CaseItem.matches != NO_MATCH, 1))),
                func.count(CaseItem.category),
            )
            .where(CaseItem.case_id == case_id, CaseItem.duplicate_group.is_not(None))
            .group_by(CaseItem.duplicate_group)
            .order_by(size.desc(), CaseItem.duplicate_group)
            .limit(limit)
        )
        with self.db.engine.connect() as conn:
            rows = conn.execute(query).all()
            reps = self._by_id(conn, case_id, [r[2] for r in rows])
        return [
            {"number": g, "size": n, "representative": reps.get(rep), "has_hit": hits > 0, "assessed": done}
            for g, n, rep, hits, done in rows
        ]

    def group_sizes(self, case_id: int, numbers: list[int]) -> dict[int, int]:
        if not numbers:
            return {}
        query = (
            select(CaseItem.duplicate_group, func.count())
            .where(CaseItem.case_id == case_id, CaseItem.duplicate_group.in_(numbers))
            .group_by(CaseItem.duplicate_group)
        )
        with self.db.engine.connect() as conn:
            return dict(conn.execute(query).all())

    def items(self, case_id: int, ids: list[int]) -> dict[int, dict]:
        """The items of case `case_id` among `ids`, by id (an id of another case is left out)."""
        with self.db.engine.connect() as conn:
            return self._by_id(conn, case_id, ids)

    @staticmethod
    def _by_id(conn, case_id: int, ids: list[int]) -> dict[int, dict]:
        out: dict[int, dict] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = select(CaseItem.__table__).where(CaseItem.case_id == case_id, CaseItem.id.in_(chunk))
            out.update((r.id, _row(r)) for r in conn.execute(query))
        return out

    def assessed(self, case_id: int) -> list[dict]:
        """Every assessed item of the case (for a hash set made of them)."""
        query = (
            select(CaseItem.__table__)
            .where(CaseItem.case_id == case_id, CaseItem.category.is_not(None))
            .order_by(CaseItem.id)
        )
        with self.db.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def assessments(self, case_id: int) -> dict[str, dict]:
        """{path: {"category", "by", "at"}} of the assessed items (for the exports)."""
        query = select(CaseItem.path, CaseItem.category, CaseItem.assessed_by, CaseItem.assessed_at).where(
            CaseItem.case_id == case_id, CaseItem.category.is_not(None)
        )
        with self.db.engine.connect() as conn:
            return {
                r.path: {"category": r.category, "by": r.assessed_by, "at": r.assessed_at}
                for r in conn.execute(query)
            }

    def assess(
        self,
        case_id: int,
        ids: list[int],
        groups: list[int],
        category: str,
        actor: str,
        org_id: int | None,
        detail: dict,
    ) -> int:
        """Set `category` on the items `ids` and every member of the duplicate groups `groups`, as
        assessed by `actor` now, with its audit row, in one transaction; the number of items set."""
        targets = [CaseItem.id.in_(ids[i : i + 500]) for i in range(0, len(ids), 500)]
        targets += [CaseItem.duplicate_group.in_(groups[i : i + 500]) for i in range(0, len(groups), 500)]
        if not targets:
            return 0
        with self.db.engine.begin() as conn:
            done = conn.execute(
                update(CaseItem)
                .where(CaseItem.case_id == case_id, or_(*targets))
                .values(category=category, assessed_by=actor, assessed_at=utcnow())
            ).rowcount
            append(conn, actor, org_id, "case.assess", f"case:{case_id}", {**detail, "items": done})
        return done

    def audit(self, actor: str, org_id: int | None, action: str, case_id: int, detail: dict) -> None:
        """An audit row of a read of the case (a view, an export, a hash set made of it)."""
        with self.db.engine.begin() as conn:
            append(conn, actor, org_id, action, f"case:{case_id}", detail)

"""Case repository: a scan's result, saved in one transaction (`save` replaces a case of that name:
the scan refuses to unless asked, see pipeline.run_scan)."""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, select

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

    def save(
        self,
        name: str,
        source: str,
        threshold: int,
        summary: dict,
        items: list[dict],
        provenance: dict | None = None,
        skipped: list[dict] | None = None,
    ) -> int:
        """Replace the case `name`; `provenance` says what it was searched with, `skipped` what was
        not examined ({"path", "reason"})."""
        now = utcnow()
        with self.db.engine.begin() as conn:
            conn.execute(delete(Case).where(Case.name == name))  # items go by ON DELETE CASCADE
            case_id = conn.execute(
                insert(Case).values(
                    name=name,
                    source=source,
                    threshold=threshold,
                    scanned_at=now,
                    summary=json.dumps(summary),
                    provenance=json.dumps(provenance or {}),
                    skipped=json.dumps(skipped or []),
                )
            ).inserted_primary_key[0]
            if items:
                conn.execute(
                    insert(CaseItem),
                    [
                        {
                            "case_id": case_id,
                            "matches": json.dumps(it["matches"]),
                            "flags": json.dumps(it["flags"]),
                            **{k: it[k] for k in _COLUMNS},
                        }
                        for it in items
                    ],
                )
        return case_id

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

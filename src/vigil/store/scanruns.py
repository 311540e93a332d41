"""Scan progress, so that a killed scan resumes: the finished tasks of each case's run.

The scanning process is the only writer. Each finished task (an evidence file with everything inside
it) is stored with all its items in the same transaction as its key, so after a `kill -9` a task is
either wholly recorded or not at all; `--resume` skips the recorded ones and nothing is lost or
counted twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import delete, insert, select, update

from vigil.errors import VigilError
from vigil.store.db import Database, utcnow
from vigil.store.models import ScanRun, ScanTask


class ScanRunRepository:
    def __init__(self, db: Database):
        self.db = db

    def start(self, case: str, source: str, resume: bool) -> tuple[int, set[str]]:
        """(run id, keys of tasks already done). Without `resume`, any earlier run is discarded."""
        with self.db.engine.begin() as conn:
            run = conn.execute(select(ScanRun.id, ScanRun.source).where(ScanRun.case_name == case)).first()
            if run is not None and resume:
                if run.source != source:
                    raise VigilError(
                        f"--resume: case {case!r} was scanning {run.source}, not {source}; "
                        "scan without --resume to start over"
                    )
                keys = conn.execute(select(ScanTask.key).where(ScanTask.run_id == run.id)).scalars()
                return run.id, set(keys)
            if run is not None:
                conn.execute(delete(ScanTask).where(ScanTask.run_id == run.id))
                conn.execute(delete(ScanRun).where(ScanRun.id == run.id))
            run_id = conn.execute(
                insert(ScanRun).values(case_name=case, source=source, started_at=utcnow())
            ).inserted_primary_key[0]
            return run_id, set()

    def source_of(self, case: str) -> str | None:
        """The evidence source of the case's recorded run (finished or not), or None."""
        with self.db.engine.connect() as conn:
            return conn.execute(select(ScanRun.source).where(ScanRun.case_name == case)).scalar()

    def started_at(self, run_id: int):
        """When the run began (a resumed run keeps the time of its first start), naive UTC."""
        with self.db.engine.connect() as conn:
            return conn.execute(select(ScanRun.started_at).where(ScanRun.id == run_id)).scalar_one()

    def record(self, run_id: int, done: Iterable[tuple[str, list[dict]]]) -> None:
        """Store finished tasks, all in one transaction."""
        rows = [{"run_id": run_id, "key": key, "items": json.dumps(items)} for key, items in done]
        if rows:
            with self.db.engine.begin() as conn:
                conn.execute(insert(ScanTask), rows)

    def items(self, run_id: int) -> list[dict]:
        """Every recorded item state of the run, in task order."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(ScanTask.items).where(ScanTask.run_id == run_id).order_by(ScanTask.key)
            ).scalars()
            return [state for blob in rows for state in json.loads(blob)]

    def finish(self, run_id: int) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(update(ScanRun).where(ScanRun.id == run_id).values(finished_at=utcnow()))
